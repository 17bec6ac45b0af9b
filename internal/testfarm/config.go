package testfarm

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aicensus/aicensus/internal/model"
)

// Config configures a Farm. The zero value (with the data directories
// found by LocateData) gives 100 site hosts plus every fault host.
type Config struct {
	// Hosts is the number of site hosts (the fault hosts come on top).
	// Default 100.
	Hosts int
	// Seed makes host kinds, pages and tokens deterministic: the same seed,
	// host count and corpus give the same farm.
	Seed uint64
	// NoFaults leaves the fault hosts out (for throughput benchmarks).
	NoFaults bool
	// CorpusDir is shared/corpus/html; EmbedsDir is
	// shared/research/ai-embeds. Empty means LocateData from the working
	// directory.
	CorpusDir, EmbedsDir string
	// MaxPages caps how many base pages are loaded (0 = all usable ones,
	// about 350 pages, 45 MB).
	MaxPages int
	// Dir receives ca.pem. Empty means a temporary directory removed by
	// Close.
	Dir string
	// SlowInterval is the pause between body bytes of the slow-loris host.
	// Default 2 s.
	SlowInterval time.Duration
	// HugeBodySize is the body size of the huge-body host. Default 50 MiB.
	HugeBodySize int64
	// BombSize is the inflated size of the gzip bomb. Default 128 MiB.
	BombSize int64
	// Expect holds the scanner rules the ground truth depends on.
	Expect Expect
}

// Expect are the statuses the ground truth gives where the scanner's rule,
// not the farm, decides. The defaults are documented in docs/testfarm.md.
type Expect struct {
	// ErrorPage is the status of a host whose homepage answers 404 or 500
	// on both schemes. Default model.StatusHTTPError.
	ErrorPage model.Status
	// DNSOnly is the status of a host that has TXT records but no address
	// (and no www. name). Default model.StatusDNSNoAddress; its DNS
	// technologies are expected either way.
	DNSOnly model.Status
}

func (c Config) withDefaults() (Config, error) {
	if c.Hosts <= 0 {
		c.Hosts = 100
	}
	if c.SlowInterval <= 0 {
		c.SlowInterval = 2 * time.Second
	}
	if c.HugeBodySize <= 0 {
		c.HugeBodySize = 50 << 20
	}
	if c.BombSize <= 0 {
		c.BombSize = 128 << 20
	}
	if c.Expect.ErrorPage == "" {
		c.Expect.ErrorPage = model.StatusHTTPError
	}
	if c.Expect.DNSOnly == "" {
		c.Expect.DNSOnly = model.StatusDNSNoAddress
	}
	for _, s := range []model.Status{c.Expect.ErrorPage, c.Expect.DNSOnly} {
		if !s.Valid() {
			return c, fmt.Errorf("testfarm config: unknown status %q", s)
		}
	}
	if c.CorpusDir == "" || c.EmbedsDir == "" {
		corpus, embeds, err := LocateData("")
		if err != nil {
			return c, err
		}
		if c.CorpusDir == "" {
			c.CorpusDir = corpus
		}
		if c.EmbedsDir == "" {
			c.EmbedsDir = embeds
		}
	}
	return c, nil
}

// LocateData finds shared/corpus/html and shared/research/ai-embeds by
// walking up from start (the working directory when ""). It returns an
// error wrapping ErrNoData when no parent holds them.
func LocateData(start string) (corpusDir, embedsDir string, err error) {
	if start == "" {
		if start, err = os.Getwd(); err != nil {
			return "", "", fmt.Errorf("locate testfarm data: %w", err)
		}
	}
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", "", fmt.Errorf("locate testfarm data: %w", err)
	}
	for {
		corpus := filepath.Join(dir, "shared", "corpus", "html")
		embeds := filepath.Join(dir, "shared", "research", "ai-embeds")
		if isDir(corpus) && isDir(embeds) {
			return corpus, embeds, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", fmt.Errorf("locate testfarm data from %s: %w", start, ErrNoData)
		}
		dir = parent
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
