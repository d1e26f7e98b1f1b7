// Starts the app and offers new versions (a file of its own: the CSP allows no inline script).
import init from "/pkg/lianxin_app.js";
init();
// A new version is offered, never forced: it waits until the person taps the banner, so
// nobody loses what they are typing.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").then((reg) => {
    const offer = (worker) => {
      if (!worker || !navigator.serviceWorker.controller || document.getElementById("update")) return;
      const bar = document.createElement("button");
      bar.id = "update";
      bar.textContent = "有新版本，点此更新 · A new version is ready: tap to update";
      bar.onclick = () => worker.postMessage("activate-new-version");
      document.body.appendChild(bar);
    };
    offer(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const worker = reg.installing;
      worker?.addEventListener("statechange", () => { if (worker.state === "installed") offer(worker); });
    });
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (document.getElementById("update") && !reloading) { reloading = true; location.reload(); }
    });
  });
}
