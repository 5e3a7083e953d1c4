// How many page requests may run at once: one per tab, MAX_CONCURRENT_HOSTS hosts in all. Without
// it a page posting raw `web-eid:*` messages in a loop (web-eid.js's own ACTION_PENDING check is
// the page's, so it does not stop such a page) starts a host, a PIN dialog and a history line for
// each one.
//
// The counts live in memory, in the background, on purpose: a slot is held only while its native
// port is open (the ticket is released when the port closes), and an open native port keeps the
// Chromium service worker alive. When the worker or the Firefox background page is stopped, every
// port closes with it and every host exits, so an empty table after a restart is exactly the
// truth; chrome.storage.session would instead keep slots of requests that died with the worker.

import { MAX_CONCURRENT_HOSTS } from "./config.js";
import { ErrorCode, webEidError } from "./protocol.js";

/** The key of the tab a request came from; requests without a tab share one key. */
export function tabKey(sender) {
  const id = sender?.tab?.id;
  return Number.isInteger(id) && id >= 0 ? `tab ${id}` : "no tab";
}

export class RequestLimits {
  constructor(maxHosts = MAX_CONCURRENT_HOSTS) {
    this.maxHosts = maxHosts;
    /** Keys of the tabs with a request that has not been answered yet. */
    this.tabs = new Set();
    /** Hosts started and whose port is not closed yet. */
    this.hosts = 0;
  }

  /**
   * Takes the tab's one slot and one host slot for a request that is about to start a host.
   * Returns `{error}` (ERR_WEBEID_ACTION_PENDING) when either is taken, else a ticket:
   * `answered()` frees the tab (the page has its reply: it may ask again), `closed()` frees the
   * host (its port is closed; frees the tab too). Both may be called more than once.
   */
  take(key) {
    if (this.tabs.has(key)) {
      return {
        error: webEidError(
          ErrorCode.ERR_WEBEID_ACTION_PENDING,
          "another eID request of this tab is in progress",
        ),
      };
    }
    if (this.hosts >= this.maxHosts) {
      return {
        error: webEidError(
          ErrorCode.ERR_WEBEID_ACTION_PENDING,
          `${this.maxHosts} eID requests are in progress in other tabs: finish one of them first`,
          { reason: "TOO_MANY_REQUESTS" },
        ),
      };
    }
    this.tabs.add(key);
    this.hosts += 1;
    let tab = true;
    let host = true;
    const answered = () => {
      if (tab) this.tabs.delete(key);
      tab = false;
    };
    return {
      answered,
      closed: () => {
        answered();
        if (host) this.hosts -= 1;
        host = false;
      },
    };
  }
}
