package gitlog

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// corpusColumns are the columns of first_parent_commits.csv(.gz).
var corpusColumns = []string{"repo", "sha", "parents", "author_date", "commit_date", "author_name", "author_email",
	"committer_name", "committer_email", "pr_number", "subject", "trailers", "generated_with_lines",
	"branch_commits", "branch_authors", "branch_coauthors"}

// ErrNotCorpusCSV is returned (wrapped) for a CSV whose header lacks a
// corpus column.
var ErrNotCorpusCSV = errors.New("not a first-parent commit CSV")

// ReadCorpusCSV reads the first-parent commit CSV of the shared corpus
// (plain or gzip) and calls fn for each row, in file order. Multi-valued
// cells (trailers, generated_with_lines, branch_authors, branch_coauthors)
// are split on " | ". A malformed date is left zero; a row with the wrong
// number of fields is an error.
func ReadCorpusCSV(r io.Reader, fn func(Commit) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotCorpusCSV, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range corpusColumns {
		if _, ok := col[c]; !ok {
			return fmt.Errorf("%w: no %s column", ErrNotCorpusCSV, c)
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: line %d: %w", ErrNotCorpusCSV, line, err)
		}
		get := func(name string) string { return rec[col[name]] }
		c := Commit{
			Repo: get("repo"), SHA: get("sha"), Subject: get("subject"),
			Author:    Person{Name: get("author_name"), Email: get("author_email")},
			Committer: Person{Name: get("committer_name"), Email: get("committer_email")},
		}
		c.Parents, _ = strconv.Atoi(get("parents"))
		c.AuthorDate, _ = time.Parse(time.RFC3339, get("author_date"))
		c.CommitDate, _ = time.Parse(time.RFC3339, get("commit_date"))
		c.PR, _ = strconv.Atoi(get("pr_number"))
		_, c.Branch = PRFromSubject(c.Subject)
		for _, t := range splitList(get("trailers")) {
			k, v, ok := strings.Cut(t, ":")
			if ok {
				c.Trailers = append(c.Trailers, Trailer{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
			}
		}
		c.GeneratedWith = splitList(get("generated_with_lines"))
		c.BranchCommits, _ = strconv.Atoi(get("branch_commits"))
		for _, p := range splitList(get("branch_authors")) {
			c.BranchAuthors = append(c.BranchAuthors, ParsePerson(p))
		}
		for _, p := range splitList(get("branch_coauthors")) {
			c.BranchCoauthors = append(c.BranchCoauthors, ParsePerson(p))
		}
		if err := fn(c); err != nil {
			return err
		}
	}
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, " | ")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
