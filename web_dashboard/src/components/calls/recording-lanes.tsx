"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, type RefObject } from "react";

import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/card";
import { cn } from "@/lib/cn";
import { formatClock } from "@/lib/format";
import { themeColour, type TimelineMark } from "@/lib/recording-marks";

const LANE_HEIGHT = 56;

/**
 * The recording as two lanes on one time axis (wavesurfer.js): the caller (left channel) above,
 * what the caller heard (right channel, the agent) below, drawn from the peaks the API computes
 * (`…/audio/peaks`), so nothing is decoded here; the sound plays from `player`, an `<audio>`
 * element that streams `…/audio` with Range requests. Interruptions and backchannels are marks
 * on the lanes; each is a button that plays from it.
 */
export function RecordingLanes({
  conversationId,
  player,
  position,
  marks,
  onSeek,
}: {
  conversationId: string;
  player: RefObject<HTMLAudioElement | null>;
  position: number | null;
  marks: TimelineMark[];
  onSeek: (seconds: number) => void;
}) {
  const lanes = useRef<HTMLDivElement>(null);
  const [playing, setPlaying] = useState(false);
  const [drawFailed, setDrawFailed] = useState<string | null>(null);
  const peaks = useQuery({
    queryKey: ["calls", "peaks", conversationId],
    queryFn: () => unwrap(api.GET("/v1/convai/conversations/{conversation_id}/audio/peaks", { params: { path: { conversation_id: conversationId } } })),
    staleTime: Infinity,
    retry: false,
  });
  const duration = peaks.data?.duration_secs ?? 0;

  useEffect(() => {
    const media = player.current;
    const container = lanes.current;
    if (!peaks.data || !media || !container) return;
    let disposed = false;
    let destroy = () => {};
    const { channels, duration_secs: seconds } = peaks.data;
    const draw = async () => {
      const [{ default: WaveSurfer }, { default: Timeline }] = await Promise.all([import("wavesurfer.js"), import("wavesurfer.js/dist/plugins/timeline.esm.js")]);
      if (disposed) return;
      const lane = (colour: string) => ({ waveColor: themeColour(colour, 0.55), progressColor: themeColour(colour, 1), height: LANE_HEIGHT });
      const surfer = WaveSurfer.create({
        container,
        media,
        peaks: channels,
        duration: seconds,
        normalize: true,
        barWidth: 2,
        barGap: 1,
        cursorColor: themeColour("ink"),
        splitChannels: [lane("muted"), lane("accent")],
        plugins: [Timeline.create({ height: 14, style: { fontSize: "10px", color: themeColour("muted") } })],
      });
      container.dataset.ready = "true";
      // Ready for a person: the lanes drawn and the recording able to play and seek.
      const playable = () => {
        if (!disposed) container.dataset.playerReady = "true";
      };
      if (media.readyState >= 1) playable();
      else media.addEventListener("loadedmetadata", playable, { once: true });
      destroy = () => {
        media.removeEventListener("loadedmetadata", playable);
        surfer.destroy();
      };
    };
    draw().catch((error: unknown) => setDrawFailed(error instanceof Error ? error.message : String(error)));
    return () => {
      disposed = true;
      delete container.dataset.ready;
      container.dataset.playerReady = "false";
      destroy();
    };
  }, [peaks.data, player]);

  useEffect(() => {
    const media = player.current;
    if (!media) return;
    const sync = () => setPlaying(!media.paused);
    media.addEventListener("play", sync);
    media.addEventListener("pause", sync);
    return () => {
      media.removeEventListener("play", sync);
      media.removeEventListener("pause", sync);
    };
  }, [player]);

  const toggle = () => {
    const media = player.current;
    if (!media) return;
    if (media.paused) void media.play().catch(() => undefined);
    else media.pause();
  };

  return (
    <div>
      <div className="flex items-center gap-3">
        <Button size="sm" variant="secondary" onClick={toggle} aria-label={playing ? "Pause the recording" : "Play the recording"}>
          {playing ? "Pause" : "Play"}
        </Button>
        <span className="text-xs tabular-nums text-muted" aria-live="off" data-testid="recording-time">
          {formatClock(position ?? 0)} / {duration ? formatClock(duration) : "–:––"}
        </span>
        <span className="ml-auto flex items-center gap-3 text-xs text-muted">
          <Legend className="bg-warning" label="Interruption" />
          <Legend className="bg-success" label="Backchannel" />
        </span>
      </div>
      <div className="mt-2 grid grid-cols-[4.5rem_minmax(0,1fr)] gap-2">
        <div className="flex flex-col text-xs font-medium text-muted" aria-hidden="true">
          <span className="flex items-center" style={{ height: LANE_HEIGHT }}>
            Caller
          </span>
          <span className="flex items-center text-accent" style={{ height: LANE_HEIGHT }}>
            Agent
          </span>
        </div>
        <div className="relative min-w-0">
          {peaks.isPending ? <Skeleton className="h-28 w-full" /> : null}
          {peaks.error || drawFailed ? <p className="flex h-28 items-center text-xs text-muted">The waveform cannot be drawn ({peaks.error ? errorMessage(peaks.error) : drawFailed}); the recording still plays.</p> : null}
          <div ref={lanes} role="img" aria-label="Recording waveform: the caller's lane above, the agent's below" data-testid="recording-lanes" data-player-ready="false" />
          {duration > 0
            ? marks.map((mark, index) => (
                <button
                  key={index}
                  type="button"
                  onClick={() => onSeek(mark.seconds)}
                  title={`${mark.kind === "interruption" ? "Interruption" : "Backchannel"} at ${formatClock(mark.seconds)}${mark.text ? `: “${mark.text}”` : ""}`}
                  aria-label={`${mark.kind === "interruption" ? "Interruption" : "Backchannel"} at ${formatClock(mark.seconds)}, play from here`}
                  data-mark={mark.kind}
                  className={cn("absolute top-0 z-10 w-1.5 -translate-x-1/2 rounded-sm opacity-80 hover:opacity-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-accent", mark.kind === "interruption" ? "bg-warning" : "bg-success")}
                  style={{ left: `${Math.min(100, (mark.seconds / duration) * 100)}%`, height: LANE_HEIGHT * 2 }}
                />
              ))
            : null}
        </div>
      </div>
    </div>
  );
}

function Legend({ className, label }: { className: string; label: string }) {
  return (
    <span className="flex items-center gap-1">
      <span className={cn("inline-block h-3 w-1.5 rounded-sm", className)} aria-hidden="true" />
      {label}
    </span>
  );
}
