// Self-host the one audio worklet @elevenlabs/client would otherwise fetch from a CDN: the
// libsamplerate resampler, loaded when the browser cannot open audio at the agent's sample rate.
// Copied from node_modules (pinned by package-lock.json) into public/audio/ before each build.
import { copyFile, mkdir } from "node:fs/promises";

const source = "node_modules/@alexanderolsen/libsamplerate-js/dist/libsamplerate.worklet.js";
await mkdir("public/audio", { recursive: true });
await copyFile(source, "public/audio/libsamplerate.worklet.js");
