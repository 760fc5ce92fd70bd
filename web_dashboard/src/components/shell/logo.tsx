export function Logo() {
  return (
    <span className="inline-flex items-center gap-2 text-base font-semibold tracking-tight text-ink">
      <svg viewBox="0 0 24 24" className="h-6 w-6 text-accent" aria-hidden="true">
        <rect x="1" y="1" width="22" height="22" rx="6" fill="currentColor" />
        <path d="M6 9v6M9.5 6.5v11M13 9v6M16.5 7.5v9M20 10.5v3" stroke="white" strokeWidth="1.9" strokeLinecap="round" className="dark:stroke-[rgb(17,16,56)]" />
      </svg>
      Velox
    </span>
  );
}
