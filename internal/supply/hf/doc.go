// Package hf loads Hugging Face model metadata and measures download
// concentration (§2.4 of ../shared/research/supply-and-agents.md): models,
// share below N downloads, top-p share, Gini, HHI, Lorenz points, uploads per
// quarter, and the same per author.
//
// Inputs are the hub-stats Parquet schema (read with DuckDB's read_parquet),
// /api/models JSON pages (local files or URLs, following Link rel="next"
// with retries), and JSON dumps whose objects use the same fields or the
// aliases of known dumps (modelId, name; hf_downloads, hf_likes).
//
// The two download fields are never mixed: `downloads` is the Hub's count
// over the last 30 days, `downloadsAllTime` the count since creation. Every
// figure names its field, the source column it came from and its universe.
package hf
