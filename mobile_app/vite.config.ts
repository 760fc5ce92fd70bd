/// <reference types="vitest" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

// Served by the API at /m/ (app/api/mobile_app_files.py); the service worker's scope is /m/.
export default defineConfig({
  base: "/m/",
  plugins: [
    react(),
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      injectRegister: false,
      registerType: "autoUpdate",
      scope: "/m/",
      base: "/m/",
      includeAssets: ["icons/apple-touch-icon-180.png"],
      injectManifest: {
        globPatterns: ["**/*.{js,css,html,png,webmanifest}"],
      },
      manifest: {
        id: "/m/",
        name: "Velox Field",
        short_name: "Velox",
        description: "Today's leads and call backs, and the outcomes of your calls.",
        lang: "en",
        start_url: "/m/",
        scope: "/m/",
        display: "standalone",
        orientation: "portrait",
        theme_color: "#0f766e",
        background_color: "#0b1215",
        icons: [
          { src: "icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          { src: "icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
    }),
  ],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  test: { environment: "node", include: ["tests/**/*.test.ts"] },
});
