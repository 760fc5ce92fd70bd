// The dashboard is a static export (`out/`) that the Velox API serves at `/`; ids travel in the
// query string (`/agents/edit/?id=…`) because a static export has no server routes.
// `npm run dev` proxies the API to VELOX_API_URL (default http://127.0.0.1:8000) instead.
import { PHASE_DEVELOPMENT_SERVER } from "next/constants.js";

/** @param {string} phase */
export default function config(phase) {
  /** @type {import('next').NextConfig} */
  const base = {
    reactStrictMode: true,
    trailingSlash: true,
    images: { unoptimized: true },
    poweredByHeader: false,
  };
  if (phase === PHASE_DEVELOPMENT_SERVER) {
    const api = process.env.VELOX_API_URL ?? "http://127.0.0.1:8000";
    return {
      ...base,
      async rewrites() {
        return [{ source: "/v1/:path*", destination: `${api}/v1/:path*` }];
      },
    };
  }
  return { ...base, output: "export" };
}
