// ESLint flat config. The globals each file may use are part of the design: the protocol logic
// (src/ except the browser glue) gets only what node and browsers both have, so it stays testable
// in node; only background.js, content.js and options.js see the browser and chrome.* (cardlogin.js,
// the options page's logic, is given the document and the namespaces by options.js).
import js from "@eslint/js";
import globals from "globals";

// What both node and browsers provide, and nothing else.
const portable = {
  URL: "readonly",
  TextEncoder: "readonly",
  setTimeout: "readonly",
  clearTimeout: "readonly",
};

export default [
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: portable },
    rules: {
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-console": "error",
    },
  },
  {
    files: ["src/background.js"],
    languageOptions: { globals: { ...portable, AbortController: "readonly", chrome: "readonly" } },
  },
  {
    files: ["src/options.js"],
    languageOptions: { globals: { ...portable, document: "readonly", chrome: "readonly" } },
  },
  {
    files: ["src/content.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser, chrome: "readonly" } },
  },
  {
    files: ["page/**/*.js"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["*.mjs", "tools/**/*.mjs", "test/**/*.mjs", "eslint.config.js"],
    languageOptions: { globals: globals.node },
    rules: { "no-console": "off" },
  },
];
