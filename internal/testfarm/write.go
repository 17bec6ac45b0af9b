package testfarm

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files written by WriteDir.
const (
	FileCA      = "ca.pem"      // the test CA certificate
	FileDomains = "domains.txt" // one input host per line
	FileTruth   = "truth.jsonl" // one HostTruth per line
	FileEnv     = "farm.env"    // KEY=VALUE lines, see Env
)

// Env returns the farm's coordinates as shell variables, for farm.env:
// FARM_HTTP_PORT, FARM_HTTPS_PORT, FARM_PORT_MAP ("80:P,443:Q"), FARM_DNS
// ("127.0.0.1:P"), FARM_CA, FARM_DOMAINS and FARM_TRUTH (absolute paths
// inside dir).
func (f *Farm) Env(dir string) []string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return []string{
		fmt.Sprintf("FARM_HTTP_PORT=%d", f.httpPort),
		fmt.Sprintf("FARM_HTTPS_PORT=%d", f.httpsPort),
		fmt.Sprintf("FARM_PORT_MAP=80:%d,443:%d", f.httpPort, f.httpsPort),
		"FARM_DNS=" + f.dnsAddr,
		"FARM_CA=" + filepath.Join(abs, FileCA),
		"FARM_DOMAINS=" + filepath.Join(abs, FileDomains),
		"FARM_TRUTH=" + filepath.Join(abs, FileTruth),
	}
}

// WriteDir writes the CA PEM, the domain list, the ground truth and the
// env file into dir (created if needed). Call it after Start so the env
// file has the ports.
func (f *Farm) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("testfarm write %s: %w", dir, err)
	}
	// Each file appears whole (temp file, then rename), and farm.env comes
	// last: scripts may wait for it as the "ready" signal.
	write := func(name string, fill func(w *bufio.Writer) error) error {
		path := filepath.Join(dir, name)
		fh, err := os.Create(path + ".tmp")
		if err != nil {
			return fmt.Errorf("testfarm write %s: %w", name, err)
		}
		w := bufio.NewWriter(fh)
		err = errors.Join(fill(w), w.Flush(), fh.Close())
		if err == nil {
			err = os.Rename(path+".tmp", path)
		}
		if err != nil {
			return fmt.Errorf("testfarm write %s: %w", name, err)
		}
		return nil
	}
	err := errors.Join(
		write(FileCA, func(w *bufio.Writer) error { _, err := w.Write(f.ca.pem); return err }),
		write(FileDomains, func(w *bufio.Writer) error {
			_, err := w.WriteString(strings.Join(f.Domains(), "\n") + "\n")
			return err
		}),
		write(FileTruth, func(w *bufio.Writer) error { return WriteTruth(w, f.plan.truth) }),
	)
	if err != nil {
		return err
	}
	return write(FileEnv, func(w *bufio.Writer) error {
		_, err := w.WriteString(strings.Join(f.Env(dir), "\n") + "\n")
		return err
	})
}
