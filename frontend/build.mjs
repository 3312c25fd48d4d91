// Builds the panel and the card into custom_components/connect_share/www/ (shipped in the
// repo: HACS installs no build tools). Deterministic: pinned esbuild, no timestamps, no
// source maps, fixed entry order.  Usage: npm run build [-- OUTDIR]
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || resolve(here, "../custom_components/connect_share/www"));

for (const name of ["connect-share-panel", "connect-share-card"]) {
  await build({
    entryPoints: [resolve(here, "src", `${name}.js`)],
    outfile: resolve(outdir, `${name}.js`),
    bundle: true,
    format: "esm",
    target: "es2021",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
    banner: { js: `// ${name}: built from frontend/src by frontend/build.mjs; do not edit.` },
  });
}
