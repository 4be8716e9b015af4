// Drives the hedge serve web page in headless Chromium. Run by BrowserPageTest (mvn -Pbrowser), which starts
// the server with its test models and keeps traffic flowing:
//   node page.test.mjs BASE_URL IMAGE_PNG SCREENSHOT_PNG
// Prints one "ok ..." line per check and exits non-zero at the first failure.
import { chromium } from 'playwright-core';

const [base, imagePng, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const problems = [];
let failed = false;

function check(cond, what) {
  if (!cond) throw new Error('FAILED: ' + what);
  console.log('ok ' + what);
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', e => problems.push('page error: ' + e.message));
  // The malformed request below is answered 400 on purpose: Chromium logs that response as an error.
  page.on('console', m => {
    if (m.type() === 'error' && !/status of 400/.test(m.text())) problems.push('console error: ' + m.text());
  });

  await page.goto(base + '/');
  await page.waitForSelector('.model[data-model="digits"] .badge.READY', { timeout: 15000 });
  check(true, 'the page lists the models');
  const models = await page.$$eval('.model', els => els.map(e => e.dataset.model));
  check(models.includes('affine') && models.includes('digits'), 'models listed: ' + models);
  if (models.includes('digits-cnn')) {
    const cnn = await page.locator('.model[data-model="digits-cnn"]').innerText();
    check(cnn.includes('(onnx)') && /Conversion passes/.test(cnn), 'the ONNX example shows its format and conversion passes');
    check(/precision\s+int8-dynamic \(convert\.json\)/.test(cnn), 'the ONNX example says how it was compressed on load');
    const cnnReport = await page.locator('.model[data-model="digits-cnn"] table.report tr').count();
    check(cnnReport === 5, 'compressed-on-load report table with a header and 4 layers (' + cnnReport + ' rows)');
  }

  const digits = page.locator('.model[data-model="digits"]');
  const text = await digits.innerText();
  check(text.includes('pixels') && text.includes('FP32') && text.includes('[?, 1, 8, 8]'), 'digits input pixels FP32 [?, 1, 8, 8]');
  check(text.includes('logits') && text.includes('[?, 10]'), 'digits output logits [?, 10]');
  check(/weights\s+2\.5 KiB/.test(text), 'digits weight size shown');
  const reportRows = await digits.locator('table.report tr').count();
  check(reportRows === 3, 'compression report table with a header and 2 layers (' + reportRows + ' rows)');
  check(text.includes('int8') && text.includes('dense_1'), 'per-layer compression figures');
  const serverInfo = await page.locator('#server-info').innerText();
  check(serverInfo.includes('workers'), 'server line: ' + serverInfo);

  // The live chart fills from the server's per-second events while the test sends traffic.
  await page.waitForFunction(() => Number(document.getElementById('chart').dataset.points) >= 3, null, { timeout: 20000 });
  await page.waitForFunction(() => /req\/s/.test(document.getElementById('legend').innerText), null, { timeout: 10000 });
  const legend = await page.locator('#legend').innerText();
  check(/affine v1: \d+ req\/s, p50 [\d.]+ ms, p99 [\d.]+ ms/.test(legend), 'latency chart legend: ' + legend.split('\n')[0]);
  const painted = await page.$eval('#chart', c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] === d[i + 1] && d[i + 1] === d[i + 2])) coloured++;
    return coloured;
  });
  check(painted > 100, 'latency lines drawn (' + painted + ' coloured pixels)');

  // A JSON request from the form.
  await page.selectOption('#target', 'affine|1');
  await page.click('#template');
  const req = JSON.parse(await page.inputValue('#request'));
  req.inputs[0].data = [1, 2, 3, 4];
  await page.fill('#request', JSON.stringify(req));
  await page.click('#send');
  await page.waitForFunction(() => /^200 /.test(document.getElementById('send-status').textContent), null, { timeout: 10000 });
  const resp = JSON.parse(await page.locator('#response').innerText());
  check(resp.model_name === 'affine' && resp.outputs[0].name === 'y', 'form request answered by affine');
  check(JSON.stringify(resp.outputs[0].data) === JSON.stringify([1.1, 0, 1.2, 4.4]), 'affine numbers ' + JSON.stringify(resp.outputs[0].data));

  // A bad request shows the server's error.
  await page.fill('#request', '{"inputs": [');
  await page.click('#send');
  await page.waitForFunction(() => /^400 /.test(document.getElementById('send-status').textContent), null, { timeout: 10000 });
  check((await page.locator('#response').innerText()).includes('malformed JSON'), 'a malformed request shows the 400 error');

  // An image for the image model: a dark bar on the sixth row of an 8x8 grid reads as class 5.
  await page.selectOption('#target', 'digits|1');
  await page.waitForSelector('#image-box:not([hidden])');
  check(true, 'image input offered for the [N,1,8,8] model');
  await page.setInputFiles('#file', imagePng);
  await page.waitForFunction(() => document.getElementById('argmax'), null, { timeout: 10000 });
  const argmax = await page.locator('#argmax').innerText();
  check(argmax === '5', 'uploaded image classified as 5 (got ' + argmax + ')');
  const sent = JSON.parse(await page.inputValue('#request'));
  check(JSON.stringify(sent.inputs[0].shape) === '[1,1,8,8]' && sent.inputs[0].data.length === 64, 'image sent as FP32 [1,1,8,8]');

  // A dozen seconds of chart for the screenshot.
  await page.waitForFunction(() => Number(document.getElementById('chart').dataset.points) >= 12, null, { timeout: 30000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: screenshot, fullPage: true });
  check(true, 'screenshot ' + screenshot);
  check(problems.length === 0, 'no page or console errors' + (problems.length ? ': ' + problems.join('; ') : ''));
} catch (e) {
  console.log(e.message);
  if (problems.length) console.log(problems.join('\n'));
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
