package web

import (
	"bytes"
	"html/template"
	"strings"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

var (
	md = goldmark.New(goldmark.WithExtensions(extension.GFM))
	// A dbt description is written by whoever edits the project: its
	// HTML is cut down to what user content may hold (no script, no
	// style, no event handlers, links made rel=nofollow).
	sanitizer = bluemonday.UGCPolicy()
)

// renderMarkdown renders a dbt description as sanitised HTML.
func renderMarkdown(src string) template.HTML {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark fails only on a failing writer; keep the text.
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(sanitizer.SanitizeBytes(buf.Bytes()))
}

// sqlKeywords are highlighted; dbt's Jinja ({{ }}, {% %}) gets its own
// class.
var sqlKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`select from where and or not as on join left right inner outer full cross group by order
		having limit offset union all distinct case when then else end with insert into update delete create table view
		is null in like between exists cast over partition window qualify values set returning asc desc true false using
		coalesce count sum min max avg interval date timestamp lateral recursive materialized replace if`) {
		sqlKeywords[k] = true
	}
}

// highlightSQL escapes SQL and wraps keywords, strings, numbers, comments
// and Jinja in classed spans. It is a tokenizer, not a parser: it only
// has to colour, and it must never lose or reorder a character.
func highlightSQL(src string) template.HTML {
	var b strings.Builder
	span := func(cls, text string) {
		b.WriteString(`<span class="`)
		b.WriteString(cls)
		b.WriteString(`">`)
		b.WriteString(template.HTMLEscapeString(text))
		b.WriteString(`</span>`)
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], "--"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			span("c", src[i:i+j])
			i += j
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			end := len(src)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			span("c", src[i:end])
			i = end
		case strings.HasPrefix(src[i:], "{{") || strings.HasPrefix(src[i:], "{%") || strings.HasPrefix(src[i:], "{#"):
			closer := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[src[i+1]]
			j := strings.Index(src[i+2:], closer)
			end := len(src)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			span("j", src[i:end])
			i = end
		case c == '\'':
			j := i + 1
			for j < len(src) {
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			span("s", src[i:j])
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			span("n", src[i:j])
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 0x80 || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			word := src[i:j]
			if sqlKeywords[strings.ToLower(word)] {
				span("k", word)
			} else {
				b.WriteString(template.HTMLEscapeString(word))
			}
			i = j
		default:
			j := i + 1
			for j < len(src) && src[j] >= 0x80 {
				j++ // keep a UTF-8 sequence whole
			}
			b.WriteString(template.HTMLEscapeString(src[i:j]))
			i = j
		}
	}
	return template.HTML(b.String())
}
