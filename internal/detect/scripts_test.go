package detect

import (
	"net/url"
	"reflect"
	"testing"
)

func TestScriptSources(t *testing.T) {
	base, _ := url.Parse("https://site.test/a/page.html")
	body := []byte(`<html><head><script src="/static/app.js"></script>
<script src="rel.js#frag"></script><script src="https://cdn.example/x.js"></script>
<script src="/static/app.js"></script><script type="application/ld+json" src="/data.json"></script>
<script src="javascript:void(0)"></script><script>inline()</script></head></html>`)
	want := []string{"https://site.test/static/app.js", "https://site.test/a/rel.js", "https://cdn.example/x.js"}
	if got := ScriptSources(body, base); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	withBase := []byte(`<base href="https://other.test/dir/"><script src="b.js"></script>`)
	if got := ScriptSources(withBase, base); !reflect.DeepEqual(got, []string{"https://other.test/dir/b.js"}) {
		t.Errorf("base href not honoured: %q", got)
	}
}
