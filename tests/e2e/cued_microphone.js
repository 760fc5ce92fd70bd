// A microphone the test speaks into when it chooses: installed with Playwright's
// `add_init_script`, before any script of the page, so the page's code (the unmodified
// `@elevenlabs/client`, the dashboard) asks `getUserMedia` as it would on a real device and
// gets a live audio track that is quiet until the test calls `window.veloxMicrophone.say`.
// Chromium's own fake microphone plays its WAV from the moment the capture opens, which ties
// the caller's words to the page's start instead of to what the agent has said.
(() => {
  let context = null;
  let destination = null;

  function line() {
    if (context === null) {
      context = new AudioContext();
      destination = context.createMediaStreamDestination();
    }
    return destination;
  }

  navigator.mediaDevices.getUserMedia = async constraints => {
    if (!constraints || !constraints.audio || constraints.video) {
      throw new DOMException("the test's microphone has audio only", "NotSupportedError");
    }
    // A clone per capture: a page that stops one capture's tracks leaves the others live.
    return new MediaStream(line().stream.getAudioTracks().map(track => track.clone()));
  };

  window.veloxMicrophone = {
    /** Say PCM16 little-endian mono (base64) at `sampleRate`; resolves when it has played. */
    async say(base64, sampleRate) {
      line();
      await context.resume();
      const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
      const pcm = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
      const buffer = context.createBuffer(1, pcm.length, sampleRate);
      const samples = buffer.getChannelData(0);
      for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(destination);
      const played = new Promise(resolve => source.addEventListener("ended", resolve));
      source.start();
      const seconds = pcm.length / sampleRate + 10;
      const late = new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`not played within ${seconds} s`)), seconds * 1000),
      );
      await Promise.race([played, late]);
    },
  };
})();
