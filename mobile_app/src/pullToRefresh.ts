/** Pull down at the top of the page to refresh, as phones' apps do. */

import { useEffect, useRef, useState } from "react";

const TRIGGER_PX = 70;

export function usePullToRefresh(refresh: () => Promise<void>): number {
  const [pull, setPull] = useState(0);
  const start = useRef<number | null>(null);
  const pulled = useRef(0);

  useEffect(() => {
    const down = (event: TouchEvent): void => {
      const touch = event.touches[0];
      start.current = window.scrollY <= 0 && touch ? touch.clientY : null;
    };
    const move = (event: TouchEvent): void => {
      const touch = event.touches[0];
      if (start.current === null || !touch) return;
      const distance = Math.max(0, touch.clientY - start.current);
      pulled.current = Math.min(distance * 0.5, TRIGGER_PX * 1.4);
      setPull(pulled.current);
    };
    const up = (): void => {
      if (start.current !== null && pulled.current >= TRIGGER_PX) void refresh();
      start.current = null;
      pulled.current = 0;
      setPull(0);
    };
    window.addEventListener("touchstart", down, { passive: true });
    window.addEventListener("touchmove", move, { passive: true });
    window.addEventListener("touchend", up);
    window.addEventListener("touchcancel", up);
    return () => {
      window.removeEventListener("touchstart", down);
      window.removeEventListener("touchmove", move);
      window.removeEventListener("touchend", up);
      window.removeEventListener("touchcancel", up);
    };
  }, [refresh]);

  return pull / TRIGGER_PX;
}
