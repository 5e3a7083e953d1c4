// One native-messaging port, used for exactly one request (protocol.md §2 "Session": one host
// process per action). Port events are queued from the moment the port exists, so a message or a
// disconnect that arrives before anyone waits for it is not lost. No browser globals: the caller
// passes `connectNative` and a `lastError` getter (chrome.runtime.* in background.js, fakes in tests).

/**
 * @typedef {{type: "message", message: unknown}
 *   | {type: "disconnect", error: string}
 *   | {type: "timeout"}
 *   | {type: "aborted"}} PortEvent
 */

export class NativeSession {
  /**
   * @param {(name: string) => object} connectNative `chrome.runtime.connectNative`
   * @param {string} name the host name
   * @param {() => (string | undefined)} lastError `chrome.runtime.lastError?.message`
   */
  constructor(connectNative, name, lastError) {
    /** @type {PortEvent[]} */
    this.events = [];
    this.waiter = null;
    this.closed = false;
    // connectNative throws for a malformed name or a missing permission; the host not being
    // installed shows up as an immediate disconnect instead.
    this.port = connectNative(name);
    this.port.onMessage.addListener((message) => this.push({ type: "message", message }));
    this.port.onDisconnect.addListener((port) => {
      // Chromium reports why in runtime.lastError (reading it also silences "Unchecked
      // runtime.lastError"), Firefox in port.error.
      const error = lastError() ?? port?.error?.message ?? this.port.error?.message;
      this.closed = true;
      this.push({ type: "disconnect", error: error ?? "the native application closed the connection" });
    });
  }

  push(event) {
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve(event);
    } else {
      this.events.push(event);
    }
  }

  /**
   * The next port event, or `{type: "timeout"}` after `timeoutMs`.
   * @returns {Promise<PortEvent>}
   */
  next(timeoutMs) {
    if (this.events.length > 0) return Promise.resolve(this.events.shift());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve({ type: "timeout" });
      }, timeoutMs);
      this.waiter = (event) => {
        clearTimeout(timer);
        resolve(event);
      };
    });
  }

  /**
   * The page went away (its frame navigated, its tab closed): whoever waits in next() gets
   * `{type: "aborted"}` at once, and the port is closed, which ends the host and its dialog.
   */
  abort() {
    this.push({ type: "aborted" });
    this.close();
  }

  /** Sends a message; throws if the port is already gone. */
  post(message) {
    this.port.postMessage(message);
  }

  /** Closes the port: the host sees stdin end and exits (§2), cancelling what it was doing. */
  close() {
    if (this.closed) return;
    this.closed = true;
    try {
      this.port.disconnect();
    } catch {
      // already disconnected by the browser
    }
  }
}
