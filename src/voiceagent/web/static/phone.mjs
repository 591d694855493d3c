// The softphone: places a call over the same Media Streams protocol Twilio speaks on /ws/media, and shows the
// call's transcript and latencies from the server's event stream.
import { decodeMuLaw, FRAME_SAMPLES, PHONE_RATE } from "./codec.mjs";

const $ = (id) => document.getElementById(id);
const ACCOUNT_SID = "AC" + "0".repeat(32);
const stats = { framesSent: 0, framesReceived: 0, marksEchoed: 0, clears: 0 };
let call = null;

function toBase64(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function setStatus(text, state) {
  $("status").textContent = text;
  document.body.dataset.call = state;
}

function showStats() {
  $("stats").textContent = `${stats.framesSent} frames sent · ${stats.framesReceived} received · ` +
    `${stats.marksEchoed} marks echoed · ${stats.clears} clears`;
}

function seconds(value) {
  return value == null ? "–" : `${value.toFixed(2)} s`;
}

// ---- the transcript and latencies, from the event stream --------------------------------------------------

function render(call) {
  const list = $("transcript");
  list.replaceChildren();
  const badges = new Map();
  for (const turn of call.turns) {
    if (!turn) continue;
    // A turn's latency goes on the first agent line spoken after the caller stopped.
    const line = call.lines.find(
      (l) => l && l.role === "agent" && !badges.has(l.index) && l.at >= turn.speech_end_at - 0.05);
    if (line) badges.set(line.index, turn);
  }
  // Consecutive lines of one speaker share a bubble; each agent sentence keeps its own heard state.
  let item = null;
  for (const line of call.lines) {
    if (!line) continue;
    if (!item || item.dataset.role !== line.role) {
      item = document.createElement("li");
      item.className = `line ${line.role}`;
      item.dataset.role = line.role;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = line.role === "agent" ? "Agent" : "You";
      const texts = document.createElement("span");
      texts.className = "texts";
      item.append(who, texts);
      list.append(item);
    }
    const text = document.createElement("span");
    text.className = "text" + (line.heard === false ? " unheard" : "");
    text.textContent = line.text;
    if (line.heard === false) text.title = "Not heard: you interrupted the agent here";
    item.querySelector(".texts").append(text, " ");
    const turn = badges.get(line.index);
    if (turn && turn.latency != null && !item.querySelector(".latency")) {
      const badge = document.createElement("span");
      badge.className = "latency";
      badge.title = "Response latency: end of your speech to the agent's first audio";
      badge.textContent = seconds(turn.latency);
      item.append(badge);
    }
  }
  list.scrollTop = list.scrollHeight;
  const rows = $("latencies");
  rows.replaceChildren();
  // One scale for every turn: 3 s, or the slowest turn when one took longer.
  const scale = Math.max(3, ...call.turns.flatMap((turn) => (turn ? turn.stages.map((stage) => stage.end) : [])));
  $("scale").textContent = `${scale.toFixed(scale > 3 ? 1 : 0)} s`;
  for (const turn of call.turns) {
    if (!turn) continue;
    const row = document.createElement("li");
    row.className = "turn-latency";
    row.textContent = `Turn ${turn.index + 1}: ${seconds(turn.latency)}`;
    const bar = document.createElement("span");
    bar.className = "bar";
    for (const stage of turn.stages) {
      const part = document.createElement("span");
      part.className = `stage ${stage.name}`;
      part.style.left = `${(stage.start / scale) * 100}%`;
      part.style.width = `${Math.max(0.5, ((stage.end - stage.start) / scale) * 100)}%`;
      part.title = `${stage.label}: ${seconds(stage.end)}`;
      bar.append(part);
    }
    row.append(bar);
    rows.append(row);
  }
}

function onEvent(call, event) {
  if (event.type === "line") {
    call.lines[event.index] = event;
  } else if (event.type === "turn") {
    call.turns[event.index] = event;
  } else if (event.type === "ended") {
    const duration = event.duration == null ? "" : ` after ${Math.round(event.duration)} s`;
    $("outcome").textContent = `Call ended: ${event.outcome}${duration}.`;
    $("outcome").dataset.outcome = event.outcome;
    if (event.outcome !== "not_started") {
      const link = document.createElement("a");
      link.href = `/console/calls/${encodeURIComponent(event.call_sid)}`;
      link.textContent = " Open it in the console";
      $("outcome").append(link);
    }
    call.events.close();
  }
  render(call);
}

// ---- the media stream -------------------------------------------------------------------------------------

function send(message) {
  if (call.socket.readyState === WebSocket.OPEN) {
    call.sequence += 1;
    call.socket.send(JSON.stringify({ ...message, sequenceNumber: String(call.sequence), streamSid: call.streamSid }));
  }
}

function echoDueMarks(all = false) {
  while (call.marks.length && (all || call.marks[0].at <= call.played)) {
    send({ event: "mark", mark: { name: call.marks.shift().name } });
    stats.marksEchoed += 1;
  }
}

function onStreamMessage({ data }) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return;
  }
  if (message.event === "media" && message.media && message.media.payload) {
    const samples = decodeMuLaw(fromBase64(message.media.payload));
    call.queued += samples.length;
    call.player.port.postMessage({ type: "audio", samples }, [samples.buffer]);
    stats.framesReceived += 1;
  } else if (message.event === "mark" && message.mark) {
    // Twilio echoes a mark once the audio sent before it has played.
    call.marks.push({ name: message.mark.name, at: call.queued });
    echoDueMarks();
  } else if (message.event === "clear") {
    // Barge-in: drop the queued audio, and (as Twilio does) echo every pending mark at once.
    call.player.port.postMessage({ type: "clear" });
    call.played = call.queued;
    echoDueMarks(true);
    stats.clears += 1;
  }
}

async function startAudio() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  const context = new AudioContext({ latencyHint: "interactive" });
  await context.audioWorklet.addModule(new URL("./worklets.mjs", import.meta.url));
  const microphone = context.createMediaStreamSource(stream);
  const capture = new AudioWorkletNode(context, "mulaw-capture", { numberOfOutputs: 1, outputChannelCount: [1] });
  const mute = context.createGain();
  mute.gain.value = 0; // the capture node only needs pulling by the graph; nothing of the mic is played back
  microphone.connect(capture).connect(mute).connect(context.destination);
  const player = new AudioWorkletNode(context, "jitter-player", { numberOfInputs: 0, outputChannelCount: [1] });
  player.connect(context.destination);
  await context.resume();
  return { stream, context, capture, player };
}

async function placeCall() {
  $("call").disabled = true;
  $("outcome").textContent = "";
  setStatus("Dialling…", "dialling");
  const response = await fetch("/phone/call", { method: "POST", credentials: "same-origin" });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    setStatus(answer.message || `The call could not be placed (${response.status}).`, "refused");
    $("call").disabled = false;
    return;
  }
  let audio;
  try {
    audio = await startAudio();
  } catch (error) {
    setStatus(`No microphone: ${error.message}`, "refused");
    $("call").disabled = false;
    return;
  }
  Object.assign(stats, { framesSent: 0, framesReceived: 0, marksEchoed: 0, clears: 0 });
  $("transcript").replaceChildren();
  $("latencies").replaceChildren();
  const streamSid = "MZ" + crypto.randomUUID().replaceAll("-", "");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  call = {
    ...audio, callSid: answer.call_sid, streamSid, sequence: 0, chunk: 0, queued: 0, played: 0, marks: [],
    lines: [], turns: [], started: performance.now(),
    socket: new WebSocket(`${scheme}//${location.host}${answer.stream_path}`),
    events: new EventSource(answer.events_path),
  };
  const current = call;
  call.events.onmessage = ({ data }) => onEvent(current, JSON.parse(data));
  call.player.port.onmessage = ({ data }) => {
    if (data.type === "played") {
      call.played = Math.max(call.played, data.played);
      echoDueMarks();
    }
  };
  call.socket.onmessage = onStreamMessage;
  call.socket.onopen = () => {
    call.socket.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }));
    send({
      event: "start",
      start: {
        accountSid: ACCOUNT_SID, callSid: call.callSid, streamSid, tracks: ["inbound"],
        customParameters: answer.parameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: PHONE_RATE, channels: 1 },
      },
    });
    call.capture.port.onmessage = ({ data }) => {
      call.chunk += 1;
      const timestamp = String(Math.round(((call.chunk - 1) * FRAME_SAMPLES * 1000) / PHONE_RATE));
      const media = { track: "inbound", chunk: String(call.chunk), timestamp, payload: toBase64(data) };
      send({ event: "media", media });
      stats.framesSent += 1;
    };
    setStatus("In call", "active");
    $("hangup").disabled = false;
  };
  call.socket.onclose = (event) => {
    const why = event.code === 1000 || event.code === 1005 ? "" : ` (${event.reason || "code " + event.code})`;
    finish(`Call ended${why}`);
  };
  call.statsTimer = setInterval(showStats, 250);
}

function finish(status) {
  if (!call || call.finished) return;
  call.finished = true;
  clearInterval(call.statsTimer);
  showStats();
  call.capture.port.onmessage = null;
  call.stream.getTracks().forEach((track) => track.stop());
  call.context.close();
  setStatus(status, "ended");
  $("hangup").disabled = true;
  $("call").disabled = false;
}

function hangUp() {
  if (!call || call.finished) return;
  send({ event: "stop", stop: { accountSid: ACCOUNT_SID, callSid: call.callSid } });
  call.socket.close(1000, "hung up");
  finish("You hung up");
}

$("call").addEventListener("click", () => {
  placeCall().catch((error) => setStatus(`Error: ${error.message}`, "refused"));
});
$("hangup").addEventListener("click", hangUp);
window.addEventListener("pagehide", hangUp);
