package gharchive

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/aicensus/aicensus/internal/supply/gharchive/ghatest"
)

func TestReadDecodesSchema(t *testing.T) {
	var raw bytes.Buffer
	w := &ghatest.Writer{W: &raw}
	w.PullRequest(ghatest.PR{Repo: "acme/api", Number: 7, Login: "Copilot", UserType: "Bot", HeadRef: "copilot/fix-7", Title: "Fix", Body: "body 🤖 Generated with [Claude Code](https://claude.com/claude-code)"})
	w.Review("acme/api", 7, "coderabbitai[bot]")
	w.ReviewComment("acme/api", 7, "alice")
	w.IssueComment("acme/api", 7, "gemini-code-assist[bot]", true)
	w.IssueComment("acme/api", 8, "bob", false)
	w.Push("acme/api", "alice", []ghatest.Commit{{SHA: "abc", AuthorName: "Alice", AuthorEmail: "a@x.org", Message: "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>"}})
	w.Watch("acme/api", "carol")
	w.Create("acme/new", "carol", "repository")
	w.Other("DeleteEvent", "acme/api", "alice")
	raw.WriteString("not json\n\n{\"id\":\"1\"}\n")

	var got []Event
	st, err := Read(context.Background(), &raw, Options{Workers: 3}, func(e *Event) error {
		got = append(got, *e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{Lines: 11, Events: 8, Skipped: 1, Malformed: 2}) {
		t.Fatalf("stats %+v", st)
	}
	pr := got[0]
	if pr.Type != TypePullRequest || pr.Actor.Login != "Copilot" || pr.Repo.Name != "acme/api" || pr.PRNumber() != 7 ||
		pr.Payload.Action != "opened" || pr.Payload.PullRequest.Head.Ref != "copilot/fix-7" || pr.Payload.PullRequest.User.Type != "Bot" ||
		!strings.Contains(pr.Payload.PullRequest.Body, "Claude Code") || pr.CreatedAt.IsZero() {
		t.Fatalf("pull request event %+v", pr)
	}
	if got[1].PRNumber() != 7 || got[1].Payload.Review.User.Login != "coderabbitai[bot]" || got[2].PRNumber() != 7 {
		t.Fatalf("review events %+v %+v", got[1], got[2])
	}
	if got[3].PRNumber() != 7 || got[4].PRNumber() != 0 {
		t.Fatalf("issue comments: PR %d, plain issue %d", got[3].PRNumber(), got[4].PRNumber())
	}
	if c := got[5].Payload.Commits; len(c) != 1 || c[0].Author.Email != "a@x.org" || !strings.Contains(c[0].Message, "Co-authored-by") {
		t.Fatalf("push %+v", got[5].Payload)
	}
	if got[6].Type != TypeWatch || got[6].Payload.Action != "started" || got[7].Payload.RefType != "repository" {
		t.Fatalf("watch/create %+v %+v", got[6], got[7])
	}
}

func TestReadTrimmedPayloads(t *testing.T) {
	var raw bytes.Buffer
	w := &ghatest.Writer{W: &raw, Trimmed: true}
	w.PullRequest(ghatest.PR{Repo: "a/b", Number: 3, Login: "alice", HeadRef: "codex/x", Body: "ignored when trimmed"})
	w.Push("a/b", "alice", []ghatest.Commit{{SHA: "1", Message: "dropped"}})
	var got []Event
	if _, err := Read(context.Background(), &raw, Options{}, func(e *Event) error { got = append(got, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	if pr := got[0].Payload.PullRequest; pr.User != nil || pr.Body != "" || pr.Head.Ref != "codex/x" || got[0].PRNumber() != 3 {
		t.Fatalf("trimmed PR %+v", pr)
	}
	if len(got[1].Payload.Commits) != 0 {
		t.Fatalf("trimmed push kept commits")
	}
}

func TestReadOrderGzipAndErrors(t *testing.T) {
	var raw bytes.Buffer
	w := &ghatest.Writer{W: &raw}
	const n = 5000
	for i := range n {
		w.Watch("o/r", "u"+string(rune('a'+i%26)))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	prev := ""
	count := 0
	st, err := Read(context.Background(), bytes.NewReader(gz.Bytes()), Options{Types: []string{TypeWatch}, Workers: 4}, func(e *Event) error {
		if prev != "" && e.ID <= prev {
			t.Fatalf("out of order: %s after %s", e.ID, prev)
		}
		prev = e.ID
		count++
		return nil
	})
	if err != nil || count != n || st.Events != n {
		t.Fatalf("read %d events, %+v, %v", count, st, err)
	}
	stop := errors.New("stop")
	calls := 0
	_, err = Read(context.Background(), bytes.NewReader(raw.Bytes()), Options{}, func(*Event) error {
		calls++
		if calls == 700 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 700 {
		t.Fatalf("callback error: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, bytes.NewReader(raw.Bytes()), Options{}, func(*Event) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
}

func TestReadLongLine(t *testing.T) {
	var raw bytes.Buffer
	raw.WriteString(`{"id":"1","type":"WatchEvent","actor":{"login":"x"},"repo":{"name":"a/b"},"payload":{"action":"started"},"pad":"`)
	raw.WriteString(strings.Repeat("x", 3<<20))
	raw.WriteString("\"}\n")
	raw.WriteString(`{"id":"2","type":"WatchEvent","repo":{"name":"a/b"},"payload":{"action":"started"}}` + "\n")
	st, err := Read(context.Background(), &raw, Options{}, func(*Event) error { return nil })
	if err != nil || st.Events != 2 {
		t.Fatalf("long line: %+v %v", st, err)
	}
}

func FuzzDecodeLine(f *testing.F) {
	var raw bytes.Buffer
	w := &ghatest.Writer{W: &raw}
	w.Mix(rand.New(rand.NewPCG(5, 6)), 30, 5, 0.5)
	for l := range strings.SplitSeq(raw.String(), "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"type":"PullRequestEvent","payload":{"pull_request":null,"number":"x"}}`))
	wants := Options{}.wants()
	f.Fuzz(func(t *testing.T, line []byte) {
		var ev Event
		s := decodeLine(line, wants, &ev)
		if s == statusEvent && !wants[ev.Type] {
			t.Fatalf("delivered unwanted type %q", ev.Type)
		}
		_ = ev.PRNumber()
		st, err := Read(context.Background(), bytes.NewReader(line), Options{Workers: 1}, func(*Event) error { return nil })
		if err != nil || st.Lines > bytes.Count(line, []byte("\n"))+1 || st.Events+st.Skipped+st.Malformed != st.Lines {
			t.Fatalf("Read(%q) = %+v, %v", line, st, err)
		}
	})
}
