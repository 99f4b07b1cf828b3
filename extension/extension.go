// Package extension holds dbtlink's browser extension for dbt Cloud's pages
// (a Manifest V3 extension in plain JavaScript beside this file) and its
// browser tests. The Go side only embeds the files the browser loads, so the
// tests can load exactly what `make extension` ships.
//
// The JavaScript is written by hand, with no framework or bundler: the
// extension is a few hundred lines that must run unchanged in Chromium and
// Firefox, and a build step would stand between the source and what a
// reviewer of a browser store reads. What it reads from dbt Cloud's pages
// lives in src/page.js alone.
package extension

import "embed"

// Files are the extension's files as the browser loads them: manifest.json,
// the options page and src/.
//
//go:embed manifest.json options.html options.js src
var Files embed.FS
