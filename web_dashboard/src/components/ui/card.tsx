import type { HTMLAttributes, ReactNode } from "react";

import { cn } from "@/lib/cn";

export function Card({ className, ...props }: HTMLAttributes<HTMLDivElement>) {
  return <div className={cn("rounded-lg border border-line bg-surface shadow-sm", className)} {...props} />;
}

export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden="true" className={cn("animate-shimmer rounded-md bg-subtle", className)} />;
}

export function Alert({
  tone = "danger",
  title,
  children,
  className,
  id,
}: {
  tone?: "danger" | "success" | "info";
  title?: string;
  children: ReactNode;
  className?: string;
  id?: string;
}) {
  const tones = {
    danger: "border-danger/40 bg-danger/5 text-danger",
    success: "border-success/40 bg-success/5 text-success",
    info: "border-line bg-subtle text-ink",
  } as const;
  return (
    <div id={id} role={tone === "danger" ? "alert" : "status"} className={cn("rounded-md border px-4 py-3 text-sm", tones[tone], className)}>
      {title ? <p className="font-semibold">{title}</p> : null}
      <div className={cn(title && "mt-0.5", "text-ink/90")}>{children}</div>
    </div>
  );
}

const BADGE_TONES = {
  neutral: "border-line bg-subtle text-muted",
  success: "border-success/40 bg-success/10 text-success",
  danger: "border-danger/40 bg-danger/10 text-danger",
  warning: "border-warning/40 bg-warning/10 text-warning",
  accent: "border-accent/40 bg-accent/10 text-accent",
} as const;

export type BadgeTone = keyof typeof BADGE_TONES;

export function Badge({ children, tone = "neutral", className }: { children: ReactNode; tone?: BadgeTone; className?: string }) {
  return (
    <span className={cn("inline-flex items-center rounded-full border px-2 py-0.5 text-xs font-medium", BADGE_TONES[tone], className)}>
      {children}
    </span>
  );
}
