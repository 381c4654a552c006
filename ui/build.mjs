// Builds the UI into build/ui/dist (or argv[2]): one bundle and one
// stylesheet with content hashes in their names (cached for a year by
// nginx), and index.html naming them (never cached). Prints the sizes;
// fails when the JavaScript passes its budget (60 KB gzipped).
import * as esbuild from 'esbuild';
import {gzipSync} from 'node:zlib';
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {basename, dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, '..', 'build', 'ui', 'dist'));
const BUDGET = 60 * 1024;

rmSync(out, {recursive: true, force: true});
mkdirSync(join(out, 'assets'), {recursive: true});
const result = await esbuild.build({
	entryPoints: [join(here, 'src', 'main.js')],
	bundle: true,
	minify: true,
	format: 'esm',
	target: ['es2020'],
	outdir: join(out, 'assets'),
	entryNames: 'app-[hash]',
	assetNames: '[name]-[hash]',
	metafile: true,
	legalComments: 'none',
	logLevel: 'warning',
	define: {'process.env.NODE_ENV': '"production"'},
});
let js = null;
let css = null;
for (const f of Object.keys(result.metafile.outputs)) {
	if (f.endsWith('.js'))
		js = f;
	else if (f.endsWith('.css'))
		css = f;
}
const page = readFileSync(join(here, 'src', 'index.html'), 'utf8')
    .replace('@JS@', `/assets/${basename(js)}`)
    .replace('@CSS@', `/assets/${basename(css)}`);
writeFileSync(join(out, 'index.html'), page);
const gz = gzipSync(readFileSync(js), {level: 9}).length;
const cssGz = gzipSync(readFileSync(css), {level: 9}).length;
console.log(`  UI     ${out}: ${basename(js)} ${(gz / 1024).toFixed(1)} KB gzipped` +
    ` (budget 60 KB), ${basename(css)} ${(cssGz / 1024).toFixed(1)} KB gzipped`);
if (gz > BUDGET) {
	console.error(`ui: JavaScript is ${gz} bytes gzipped, over the ${BUDGET} budget`);
	process.exit(1);
}
