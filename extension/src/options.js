// The options page (options.html): wires cardlogin.js to this page's document and the browser's
// namespaces. `browser` exists in Firefox only, where the card-login part of the page is shown.
import { startOptionsPage } from "./cardlogin.js";

startOptionsPage({ document, chrome: globalThis.chrome, browser: globalThis.browser });
