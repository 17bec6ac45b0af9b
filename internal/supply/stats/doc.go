// Package stats computes concentration measures over non-negative counts
// (downloads, stars, lines): share below a threshold, top-p share, Gini
// coefficient, Herfindahl index and Lorenz curve points. It is the one
// implementation the Hugging Face, GitHub and agent metrics share.
//
// Definitions follow ../shared/research/supply-and-agents.md §2.4:
// ascending order, strict "<" for share below, n = ⌈p·N⌉ items for a top-p
// share, G = 2·Σ i·x_(i) / (N·X) − (N+1)/N. Sums are exact (128-bit) so a
// universe of millions of items with billions of downloads loses nothing.
package stats
