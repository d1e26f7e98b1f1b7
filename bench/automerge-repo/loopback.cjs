// Preloaded into automerge-repo's sync server: its launcher listens on every interface; for a
// benchmark on one machine it listens on 127.0.0.1 only. Nothing else is changed.
const net = require("net")
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && (args.length === 1 || typeof args[1] === "function")) {
    args.splice(1, 0, "127.0.0.1")
  }
  return listen.apply(this, args)
}
