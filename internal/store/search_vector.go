package store

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// PostgreSQL's search vectors are composed here rather than by
// to_tsvector in the database. Its default parser is a state machine for
// e-mail addresses, URLs, hosts, versions and a score of other token kinds
// that a catalog's text does not need; on the bench's first sync (14,000
// tables, 10 MB of column names and descriptions) it cost 1.7 s of the
// server's CPU out of the sync's 5, while reading the vectors composed
// here costs about 0.2 s. It also makes the index cut words exactly as
// searchTerms cuts a query, and as SQLite's unicode61 tokenizer does:
// runs of letters and digits, lower-cased, so "fct_orders" is fct and
// orders, and an e-mail address is its words.
//
// Each word is kept once per weight, at its first position: the ranking
// (ts_rank_cd) counts a word's positions, and how often a word repeats in
// a table's column descriptions says little about whether the table is
// what a user searched for, while the repeats were most of the vector.

// Limits of PostgreSQL's tsvector (tsearch/ts_type.h): a lexeme of at
// most 2047 bytes, positions up to 16383, and at most 1 MB of lexemes and
// their positions in one vector. A longer word is left out, as to_tsvector
// leaves it out; a document's words past the size limit are not indexed.
const (
	maxLexemeBytes = 2047
	maxPosition    = 16383
	maxVectorBytes = 1<<20 - 1
	// lexemeOverhead bounds what a lexeme costs in a vector beside its
	// bytes: alignment, its count of positions and one position per weight.
	lexemeOverhead = 1 + 2 + 2*len(searchWeights)
)

// searchWeights are the tsvector weights of a document's fields: name,
// description, columns, then tags and owners.
var searchWeights = [...]byte{'A', 'B', 'C', 'D'}

// vectorBuilder composes a tsvector literal.
type vectorBuilder struct {
	order []string
	// weights[lexeme] has, per weight, the word's first position (0: none).
	weights map[string]*[len(searchWeights)]int
	pos     int
	bytes   int
}

func (v *vectorBuilder) add(text string, weight int) {
	start := -1
	for i, r := range text {
		if !notWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			v.word(text[start:i], weight)
			start = -1
		}
	}
	if start >= 0 {
		v.word(text[start:], weight)
	}
}

// word adds one word. Most words of a catalog are lower-case ASCII
// already: they are kept as they are, without a copy.
func (v *vectorBuilder) word(word string, weight int) {
	if len(word) > maxLexemeBytes {
		return
	}
	for i := 0; i < len(word); i++ {
		if c := word[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			word = strings.ToLower(word)
			break
		}
	}
	v.pos = min(v.pos+1, maxPosition)
	at := v.weights[word]
	if at == nil {
		if v.bytes+len(word)+lexemeOverhead > maxVectorBytes {
			return
		}
		v.bytes += len(word) + lexemeOverhead
		at = new([len(searchWeights)]int)
		v.weights[word] = at
		v.order = append(v.order, word)
	}
	if at[weight] == 0 {
		at[weight] = v.pos
	}
}

func notWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// String is the tsvector literal: 'word':3A,9C ... Words hold letters and
// digits only, so quoting them needs no escapes.
func (v *vectorBuilder) String() string {
	var b strings.Builder
	b.Grow(v.bytes)
	for i, word := range v.order {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('\'')
		b.WriteString(word)
		b.WriteString("':")
		first := true
		for w, p := range v.weights[word] {
			if p == 0 {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(strconv.Itoa(p))
			b.WriteByte(searchWeights[w])
		}
	}
	return b.String()
}

func newVectorBuilder() *vectorBuilder {
	return &vectorBuilder{weights: map[string]*[len(searchWeights)]int{}}
}

// searchVectors returns the tsvector literals of d's whole document
// (weighted name A, description B, columns C, tags and owners D) and of
// its name alone.
func searchVectors(d SearchDoc) (doc, name string) {
	v := newVectorBuilder()
	v.add(d.Name, 0)
	v.add(d.Description, 1)
	v.add(d.Columns, 2)
	v.add(d.Tags, 3)
	v.add(d.Owners, 3)
	n := newVectorBuilder()
	n.add(d.Name, 3)
	return v.String(), n.String()
}

// composeVectors returns searchVectors of each of docs, on as many cores
// as there are: a first sync composes 14,000 of them (0.3 s on one core)
// while the database waits for them.
func composeVectors(docs []SearchDoc) [][2]string {
	out := make([][2]string, len(docs))
	workers := min(runtime.GOMAXPROCS(0), max(len(docs)/256, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(docs); i += workers {
				out[i][0], out[i][1] = searchVectors(docs[i])
			}
		})
	}
	wg.Wait()
	return out
}
