#!/usr/bin/env node
// shot.js: a full-page PNG of a local HTML page (a bench report's
// index.html) taken with headless Chromium, after every <img> and <object>
// on it has loaded.
//
//   node shot.js [--boxes BOXES.json] IN.html OUT.png [WIDTH]
//   node shot.js --version
//
// WIDTH is the viewport width in CSS pixels (default 1280); the device
// scale is 1, so the PNG is WIDTH pixels wide. --boxes writes where each
// image was drawn in the PNG (inside its border): [{src, x, y, width, height, naturalWidth,
// naturalHeight}], for tests that look inside one plot.
//
// The npm packages (@sparticuz/chromium: a headless Chromium shipped inside
// the npm tarball; puppeteer-core) live outside the repository, in
// ${XDG_CACHE_HOME:-$HOME/.cache}/rxprobe-shot, installed by install.sh
// (`make bench-report-shot` runs it). Chromium is unpacked once into
// chromium-VERSION there.
//
// Exit status: 0 the PNG is written; 1 the page or one of its images did
// not load (one line naming it); 2 bad usage or the tool is not installed.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createRequire } = require('node:module');

function die(code, msg) {
  process.stderr.write(`shot: ${msg}\n`);
  process.exit(code);
}

function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || (os.homedir() && path.join(os.homedir(), '.cache'));
  if (!base) die(2, 'neither XDG_CACHE_HOME nor HOME is set: cannot find the npm packages');
  return path.join(base, 'rxprobe-shot');
}

function load(cache) {
  const req = createRequire(path.join(cache, 'package.json'));
  try {
    return {
      chromium: req('@sparticuz/chromium'), puppeteer: req('puppeteer-core'),
      version: JSON.parse(fs.readFileSync(path.join(cache, 'node_modules', '@sparticuz', 'chromium', 'package.json'), 'utf8')).version,
    };
  } catch (e) {
    die(2, `npm packages missing in ${cache} (${e.code || e.message}): run make bench-report-shot once`);
  }
}

// executable unpacks Chromium into CACHE/chromium-VERSION once. The
// package unpacks into os.tmpdir(), so TMPDIR points at a private
// directory for that call, which is then renamed into place: two first
// runs at once never see a half-written binary.
async function executable(cache, chromium, version) {
  const dir = path.join(cache, `chromium-${version}`);
  const bin = path.join(dir, 'chromium');
  if (fs.existsSync(bin)) return bin;
  const tmp = fs.mkdtempSync(path.join(cache, 'unpack-'));
  const old = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await chromium.executablePath();
  } finally {
    if (old === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = old;
  }
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true }); // another run was first
    if (!fs.existsSync(bin)) throw e;
  }
  return bin;
}

async function launch(cache, m) {
  const bin = await executable(cache, m.chromium, m.version);
  // Chromium finds its SwiftShader libraries next to the binary; the
  // fonts are the system's (fontconfig), so text looks as on a desktop.
  return m.puppeteer.launch({ executablePath: bin, args: m.chromium.args, headless: 'shell' });
}

async function main() {
  const argv = process.argv.slice(2);
  const cache = cacheDir();
  if (argv.length === 1 && argv[0] === '--version') {
    const m = load(cache);
    const browser = await launch(cache, m);
    process.stdout.write(`${await browser.version()} (@sparticuz/chromium ${m.version})\n`);
    await browser.close();
    return;
  }
  let boxes = '';
  if (argv[0] === '--boxes') {
    boxes = argv[1] || '';
    argv.splice(0, 2);
  }
  const usage = 'usage: node shot.js [--boxes BOXES.json] IN.html OUT.png [WIDTH]';
  if (argv.length < 2 || argv.length > 3 || (argv[0] === '--boxes' && !boxes)) die(2, usage);
  const [input, output] = argv;
  const width = argv[2] === undefined ? 1280 : Number(argv[2]);
  if (!Number.isInteger(width) || width < 200 || width > 8000) die(2, `width ${argv[2]}: want an integer from 200 to 8000 (CSS pixels)`);
  if (!fs.existsSync(input)) die(2, `${input}: no such file`);

  const m = load(cache);
  const browser = await launch(cache, m);
  try {
    const page = await browser.newPage();
    const failed = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} (${r.failure() ? r.failure().errorText : 'failed'})`));
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.url()} (HTTP ${r.status()})`); });
    await page.setViewport({ width, height: 800, deviceScaleFactor: 1 });
    const url = 'file://' + path.resolve(input);
    await page.goto(url, { waitUntil: 'load', timeout: 60000 });
    // 'load' waits for every image and object; a broken SVG still loads
    // as a resource but decodes to nothing: naturalWidth 0, or an <object>
    // without an SVG document.
    const bad = await page.evaluate(async () => {
      const out = [];
      for (const img of document.images) {
        if (!img.complete) await new Promise((ok) => { img.onload = img.onerror = ok; });
        if (img.naturalWidth === 0) out.push(img.getAttribute('src'));
        else {
          try { await img.decode(); } catch { out.push(img.getAttribute('src')); }
        }
      }
      for (const o of document.querySelectorAll('object')) {
        const d = o.contentDocument;
        if (!d || !d.documentElement || d.documentElement.localName !== 'svg') out.push(o.getAttribute('data'));
      }
      return out;
    });
    const why = [];
    if (failed.length) why.push(`did not load: ${failed.join(', ')}`);
    if (bad.length) why.push(`image did not render (missing or broken SVG): ${bad.join(', ')}`);
    if (why.length) throw new Error(`${input}: ${why.join('; ')}`);
    await page.screenshot({ path: output, fullPage: true, type: 'png' });
    const info = await page.evaluate(() => ({
      height: document.documentElement.scrollHeight,
      boxes: [...document.querySelectorAll('img, object')].map((e) => {
        const r = e.getBoundingClientRect();
        return {
          src: e.getAttribute('src') || e.getAttribute('data'),
          // the box inside the border, where the image is drawn
          x: Math.round(r.left + e.clientLeft + window.scrollX), y: Math.round(r.top + e.clientTop + window.scrollY),
          width: e.clientWidth, height: e.clientHeight,
          naturalWidth: e.naturalWidth || 0, naturalHeight: e.naturalHeight || 0,
        };
      }),
    }));
    if (boxes) fs.writeFileSync(boxes, JSON.stringify(info.boxes, null, 1) + '\n');
    process.stdout.write(`shot: ${output}: ${width}x${info.height}, ${info.boxes.length} image(s)\n`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => die(1, String(e && e.message ? e.message : e).split('\n')[0]));
