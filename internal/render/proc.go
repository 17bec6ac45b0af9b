package render

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// procInfo is one process of a browser's process tree.
type procInfo struct {
	pid      int
	mem      int64 // proportional set size (PSS) in bytes; RSS where PSS is unavailable
	rss      int64 // resident set size in bytes
	renderer bool  // a Chromium renderer (--type=renderer)
}

// procTable is a snapshot of every process's parent, read from /proc.
type procTable struct {
	children map[int][]int
}

// readProcs snapshots the parent of every process. It returns an empty
// table where /proc is missing (memory caps are then not enforced).
func readProcs() procTable {
	t := procTable{children: map[int][]int{}}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return t
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if ppid, ok := parseStatPPID(b); ok {
			t.children[ppid] = append(t.children[ppid], pid)
		}
	}
	return t
}

// parseStatPPID returns the parent pid from a /proc/<pid>/stat line: the
// second field after the command name, which is in parentheses and may
// itself hold spaces and parentheses.
func parseStatPPID(b []byte) (int, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// tree returns root and its descendants with their memory.
func (t procTable) tree(root int) []procInfo {
	var out []procInfo
	queue := []int{root}
	seen := map[int]bool{}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		mem, ok := readPSS(pid)
		if !ok {
			continue
		}
		rss, _ := readRSS(pid)
		out = append(out, procInfo{pid: pid, mem: mem, rss: rss, renderer: isRenderer(pid)})
		queue = append(queue, t.children[pid]...)
	}
	return out
}

var pageSize = int64(os.Getpagesize())

// readPSS returns a process's proportional set size from
// /proc/<pid>/smaps_rollup: its private memory plus its share of memory
// shared with other processes, so that the sum over Chromium's processes
// (which all map the same large binary) is the memory they really use.
// It falls back to the resident set size.
func readPSS(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return readRSS(pid)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10, true
				}
			}
		}
	}
	return readRSS(pid)
}

// readRSS returns a process's resident set size from /proc/<pid>/statm.
func readRSS(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * pageSize, true
}

// isRenderer reports whether pid's command line has --type=renderer.
func isRenderer(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte("--type=renderer"))
}

// selfRSS returns this process's current and peak resident memory
// (VmRSS, VmHWM) in bytes.
func selfRSS() (cur, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			cur = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return cur, peak
}
