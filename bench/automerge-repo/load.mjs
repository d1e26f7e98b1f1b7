// The load generator's two scenarios against automerge-repo's sync server
// (@automerge/automerge-repo-sync-server, run as it ships, on 127.0.0.1), for comparison with
// `target/release/load` (server/src/bin/load.rs). See docs/load.md.
//
//   node load.mjs --devices 300 --seconds 30        # devices editing their cases
//   node load.mjs --typists 16 --seconds 20         # live typists in one document
//
// Devices: each has 3 documents of its own (automerge-repo clients hold what they open), edits
// one every --edit-ms (± 50%); an office client holds every device's documents and times each
// edit's arrival (edit → another client has it: the server stored and passed it on).
// Typists: each appends a keystroke every --type-ms; every other typist times its arrival.
// Clients run in this process, on the same two cores as the server; their CPU is printed.
import { spawn } from "child_process"
import fs from "fs"
import os from "os"
import path from "path"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const args = { devices: 0, typists: 0, seconds: 30, editMs: 3000, typeMs: 300 }
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase())
  args[key] = Number(process.argv[i + 1])
}

const here = path.dirname(new URL(import.meta.url).pathname)
const data = fs.mkdtempSync(path.join(os.tmpdir(), "amrg-"))
const port = 30000 + Math.floor(Math.random() * 20000)
const server = spawn(
  process.execPath,
  ["--require", path.join(here, "loopback.cjs"), path.join(here, "node_modules/@automerge/automerge-repo-sync-server/src/index.js")],
  { env: { ...process.env, PORT: String(port), DATA_DIR: data }, stdio: ["ignore", "pipe", "inherit"] },
)
await new Promise((resolve) => server.stdout.on("data", (d) => String(d).includes("Listening") && resolve()))

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const url = `ws://127.0.0.1:${port}`
const client = () => new Repo({ network: [new WebSocketClientAdapter(url)] })
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }
const serverCpu = () => {
  const f = fs.readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1].split(" ")
  return (Number(f[11]) + Number(f[12])) / 100
}
const serverRss = () => {
  const line = fs.readFileSync(`/proc/${server.pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmHWM:"))
  return Number(line.split(/\s+/)[1]) / 1024
}
const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s.length ? s[Math.round((s.length - 1) * p)] : NaN }
const report = (name, v) =>
  console.log(`${name}: ${v.length} samples, p50 ${pct(v, 0.5).toFixed(1)} ms, p99 ${pct(v, 0.99).toFixed(1)} ms, max ${pct(v, 1).toFixed(1)} ms`)

// Documents are made on their owner's client and found by the others (first sync).
const opened = Date.now()
const latencies = []
let edits = 0
const tasks = []
let stop = false

if (args.devices > 0) {
  const office = client()
  const devices = []
  for (let i = 0; i < args.devices; i++) {
    const repo = client()
    const docs = [0, 1, 2].map(() => repo.create({ notes: [] }))
    devices.push({ repo, docs })
  }
  for (const d of devices) {
    for (const h of d.docs) {
      const seen = await office.find(h.url)
      let count = 0
      seen.on("change", ({ doc }) => {
        const now = Date.now()
        for (const note of doc.notes.slice(count)) if (note.t >= measuring) latencies.push(now - note.t)
        count = doc.notes.length
      })
    }
  }
  console.log(`automerge-repo ${args.devices} devices × 3 documents found by the office client in ${((Date.now() - opened) / 1000).toFixed(1)} s`)
  var measuring = Date.now()
  for (const [i, d] of devices.entries()) {
    tasks.push((async () => {
      await sleep(args.editMs * (0.5 + ((i * 7) % 1000) / 1000))
      let n = 0
      while (!stop) {
        d.docs[n++ % 3].change((doc) => { doc.notes.push({ t: Date.now(), text: "入户走访，群众反映情况已记录" }) })
        edits++
        await sleep(args.editMs)
      }
    })())
  }
}
if (args.typists > 0) {
  const repos = Array.from({ length: args.typists }, client)
  const first = repos[0].create({ notes: [] })
  const handles = [first]
  for (const repo of repos.slice(1)) handles.push(await repo.find(first.url))
  var measuring = Date.now()
  for (const [i, h] of handles.entries()) {
    let count = 0
    h.on("change", ({ doc }) => {
      const now = Date.now()
      for (const note of doc.notes.slice(count)) if (note.by !== i && note.t >= measuring) latencies.push(now - note.t)
      count = doc.notes.length
    })
    tasks.push((async () => {
      await sleep(args.typeMs * (i / args.typists))
      while (!stop) {
        h.change((doc) => { doc.notes.push({ t: Date.now(), by: i, text: "字" }) })
        edits++
        await sleep(args.typeMs)
      }
    })())
  }
}

const cpu0 = cpu(), server0 = serverCpu(), t0 = Date.now()
await sleep(args.seconds * 1000)
stop = true
await Promise.all(tasks)
await sleep(1000)
const wall = (Date.now() - t0) / 1000
report(args.devices > 0 ? "edit → the office client has it" : "typists' remote latency (keystroke → every other typist has it)", latencies)
console.log(`changes made: ${edits} in ${wall.toFixed(1)} s (${(edits / wall).toFixed(0)}/s)`)
console.log(`automerge-repo-sync-server 0.2.8: CPU ${(((serverCpu() - server0) / wall) * 100).toFixed(0)}% of one core, peak RSS ${serverRss().toFixed(0)} MB`)
console.log(`the clients (same machine): CPU ${(((cpu() - cpu0) / wall) * 100).toFixed(0)}% of one core`)
server.kill("SIGKILL")
fs.rmSync(data, { recursive: true, force: true })
process.exit(0)
