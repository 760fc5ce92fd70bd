"use client";

import { useEffect, useState } from "react";

import { cn } from "@/lib/cn";

/** The microphone's level (0 to 1, the client's input volume), read about 15 times a second. */
export function MicMeter({ read, muted }: { read: () => number; muted: boolean }) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => setLevel(Math.min(1, Math.max(0, read()))), 66);
    return () => window.clearInterval(timer);
  }, [read]);
  const shown = muted ? 0 : level;
  const percent = Math.round(shown * 100);
  return (
    <div className="flex items-center gap-2">
      <span className="text-xs text-muted" id="mic-level-label">
        Mic
      </span>
      <div
        role="meter"
        aria-labelledby="mic-level-label"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={muted ? "muted" : `${percent}%`}
        data-level={shown.toFixed(3)}
        className="h-2 w-32 overflow-hidden rounded-full bg-subtle"
      >
        <div className={cn("h-full rounded-full transition-[width] duration-75", percent > 80 ? "bg-warning" : "bg-success")} style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}
