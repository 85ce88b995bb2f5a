#!/usr/bin/env node
// Entry point; the command itself is built into dist/ by `npm run build`.
import "../dist/main.js";
