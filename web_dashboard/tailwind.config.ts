import type { Config } from "tailwindcss";

// Colours are CSS variables (src/app/globals.css) so one class works in light and dark mode.
const color = (name: string) => `rgb(var(--${name}) / <alpha-value>)`;

export default {
  content: ["./src/**/*.{ts,tsx}"],
  darkMode: "class",
  theme: {
    extend: {
      colors: {
        canvas: color("canvas"),
        surface: color("surface"),
        subtle: color("subtle"),
        line: color("line"),
        ink: color("ink"),
        muted: color("muted"),
        accent: color("accent"),
        "accent-ink": color("accent-ink"),
        danger: color("danger"),
        success: color("success"),
        warning: color("warning"),
      },
      fontFamily: {
        sans: [
          "Inter",
          "ui-sans-serif",
          "system-ui",
          "-apple-system",
          "Segoe UI",
          "Roboto",
          "Helvetica Neue",
          "Arial",
          "sans-serif",
        ],
        mono: ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
      },
      keyframes: {
        shimmer: { "0%, 100%": { opacity: "1" }, "50%": { opacity: "0.45" } },
      },
      animation: { shimmer: "shimmer 1.6s ease-in-out infinite" },
    },
  },
  plugins: [],
} satisfies Config;
