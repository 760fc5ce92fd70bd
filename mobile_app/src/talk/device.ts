/**
 * What the phone does while a call is on: the screen stays awake (Wake Lock, asked again when
 * the app comes back to the foreground, since the platform drops it when the app is hidden);
 * the audio session is a call's (Safari's `navigator.audioSession`: play-and-record, so iOS
 * routes it like a call and keeps the microphone when the screen locks); and the lock screen
 * shows the call with hang-up and microphone controls (Media Session), where the platform has them.
 */

interface AudioSession {
  type: string;
}

export interface CallControls {
  title: string;
  subtitle: string;
  onHangUp: () => void;
  onToggleMicrophone: () => void;
}

export class DuringCall {
  private wakeLock: WakeLockSentinel | null = null;
  private active = false;
  awake = false;

  constructor(private readonly onAwakeChange: (awake: boolean) => void = () => undefined) {}

  async begin(controls: CallControls): Promise<void> {
    this.active = true;
    document.addEventListener("visibilitychange", this.onVisibility);
    const session = (navigator as Navigator & { audioSession?: AudioSession }).audioSession;
    if (session) session.type = "play-and-record";
    if ("mediaSession" in navigator) {
      navigator.mediaSession.metadata = new MediaMetadata({ title: controls.title, artist: controls.subtitle, album: "Velox" });
      trySetAction("hangup", controls.onHangUp);
      trySetAction("togglemicrophone", controls.onToggleMicrophone);
    }
    await this.keepAwake();
  }

  setMicrophoneActive(active: boolean): void {
    const session = navigator.mediaSession as MediaSession & { setMicrophoneActive?: (active: boolean) => Promise<void> };
    void session?.setMicrophoneActive?.(active)?.catch(() => undefined);
  }

  async end(): Promise<void> {
    this.active = false;
    document.removeEventListener("visibilitychange", this.onVisibility);
    if ("mediaSession" in navigator) {
      navigator.mediaSession.metadata = null;
      trySetAction("hangup", null);
      trySetAction("togglemicrophone", null);
    }
    const session = (navigator as Navigator & { audioSession?: AudioSession }).audioSession;
    if (session) session.type = "auto";
    const lock = this.wakeLock;
    this.wakeLock = null;
    await lock?.release().catch(() => undefined);
    this.setAwake(false);
  }

  private async keepAwake(): Promise<void> {
    if (!this.active || !("wakeLock" in navigator) || document.visibilityState !== "visible") return;
    try {
      const lock = await navigator.wakeLock.request("screen");
      if (!this.active) {
        await lock.release();
        return;
      }
      this.wakeLock = lock;
      this.setAwake(true);
      lock.addEventListener("release", () => {
        if (this.wakeLock === lock) this.wakeLock = null;
        this.setAwake(false);
      });
    } catch {
      this.setAwake(false); // refused (battery saver, no permission): the call goes on regardless
    }
  }

  private setAwake(awake: boolean): void {
    this.awake = awake;
    this.onAwakeChange(awake);
  }

  private readonly onVisibility = (): void => {
    if (document.visibilityState === "visible" && this.wakeLock === null) void this.keepAwake();
  };
}

function trySetAction(action: string, handler: (() => void) | null): void {
  try {
    navigator.mediaSession.setActionHandler(action as MediaSessionAction, handler);
  } catch {
    // this browser does not know the action: the lock screen simply lacks that button
  }
}
