// Two local changes to ts-mls 1.6.4, applied after every install; each checks the exact code it
// replaces, so a different version fails loudly instead of being patched blindly.
//
// 1. Correctness. Corrects the ratchet-tree check of ts-mls 1.6.4 (also in 2.0.0-rc.10) that refuses valid trees
// when joining: RFC 9420 §12.4.3.1 asks that every non-blank node *between* an unmerged leaf and
// the parent listing it also lists that leaf. ts-mls instead demands identical unmerged_leaves
// lists on the leaf's whole direct path, so a Welcome into a group where people were added in
// different subtrees after the last path update fails ("non-blank intermediate node must list
// leaf node in its unmerged_leaves"). The test "joins a tree whose unmerged leaves differ along
// the path" in packages/core/src/engine.test.ts fails without this patch.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkgFile = [join(root, "packages/core/node_modules/ts-mls/package.json"), join(root, "node_modules/ts-mls/package.json")].find((f) =>
  existsSync(f),
);
if (!pkgFile) throw new Error("ts-mls is not installed");
// 2. Speed. On join, the parent-hash coverage walk computes a subtree hash for every leaf,
// then throws it away for leaves that carry no parent hash (members who never committed: most
// of a channel). Checking that first gives the same result and makes joining a 1,000-member
// channel take seconds instead of about a minute (bench/channel.js).
const PARENT_HASH_FILE = "parentHash.js";
const PARENT_HASH_MARK = "/* momedo: skip leaves without parent hash */";
const parentHashReplacements = [
  [
    "            // parentHashNodeIndex is the node index where the nearest non blank ancestor was\n            const [parentHash, parentHashNodeIndex] = await calculateParentHash(tree, currentIndex, h);",
    `            if (getParentHash(currentNode) === undefined) break; ${PARENT_HASH_MARK}\n            // parentHashNodeIndex is the node index where the nearest non blank ancestor was\n            const [parentHash, parentHashNodeIndex] = await calculateParentHash(tree, currentIndex, h);`,
  ],
];

const { version } = JSON.parse(readFileSync(pkgFile, "utf8"));
const file = join(dirname(pkgFile), "dist", "src", "clientState.js");
const MARK = "/* momedo: RFC 9420 unmerged-leaves check */";

const replacements = [
  [
    'if (tree[nodeIndex]?.nodeType !== "leaf" && !dp.includes(toNodeIndex(i)))',
    'if (tree[nodeIndex]?.nodeType !== "leaf" || !dp.includes(toNodeIndex(i)))',
  ],
  [
    "for (const parentIdx of dp) {\n                    const dpNode = tree[parentIdx];",
    `for (const parentIdx of dp.slice(0, dp.indexOf(toNodeIndex(i)))) { ${MARK}\n                    const dpNode = tree[parentIdx];`,
  ],
  [
    "if (!arraysEqual(dpNode.parent.unmergedLeaves, n.parent.unmergedLeaves))",
    "if (!dpNode.parent.unmergedLeaves.includes(unmergedLeaf))",
  ],
];

let source = readFileSync(file, "utf8");
if (source.includes(MARK)) {
  console.log(`ts-mls ${version}: unmerged-leaves check already corrected`);
} else {
  if (version !== "1.6.4") throw new Error(`scripts/patch-ts-mls.mjs knows ts-mls 1.6.4, found ${version}: check whether the fix is still needed`);
  for (const [from, to] of replacements) {
    if (!source.includes(from)) throw new Error(`ts-mls ${version}: expected code not found, patch not applied: ${from}`);
    source = source.replace(from, to);
  }
  writeFileSync(file, source);
  console.log(`ts-mls ${version}: corrected the unmerged-leaves check (see scripts/patch-ts-mls.mjs)`);
}

const parentHashFile = join(dirname(pkgFile), "dist", "src", PARENT_HASH_FILE);
let parentHashSource = readFileSync(parentHashFile, "utf8");
if (!parentHashSource.includes(PARENT_HASH_MARK)) {
  for (const [from, to] of parentHashReplacements) {
    if (!parentHashSource.includes(from)) throw new Error(`ts-mls ${version}: expected code not found in ${PARENT_HASH_FILE}, patch not applied`);
    parentHashSource = parentHashSource.replace(from, to);
  }
  writeFileSync(parentHashFile, parentHashSource);
  console.log(`ts-mls ${version}: parent-hash check skips leaves without a parent hash (see scripts/patch-ts-mls.mjs)`);
}
