package dbtcloud

import (
	"fmt"
	"iter"
)

// defaultPageSize is dbt Cloud's default (and maximum) page size.
const defaultPageSize = 100

// pages walks a list by offset += rows received until offset reaches
// total_count, the server sends an empty page, or (without pagination
// info) a short page arrives. It refuses to loop on a server that ignores
// the offset: a page starting with the same id as the previous one ends the
// walk with an error.
func pages[T any](lo ListOptions, id func(*T) int64, fetch func(ListOptions) ([]T, *Response, error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		limit := lo.Limit
		if limit == 0 {
			limit = defaultPageSize
		}
		var prevFirst int64
		havePrev := false
		for {
			page, resp, err := fetch(lo)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(page) == 0 {
				return
			}
			if first := id(&page[0]); havePrev && first == prevFirst {
				yield(nil, fmt.Errorf("dbtcloud: paging stuck: offset %d returned the same page as the previous offset (first id %d)", lo.Offset, first))
				return
			} else {
				prevFirst, havePrev = first, true
			}
			for i := range page {
				if !yield(&page[i], nil) {
					return
				}
			}
			next := lo.Offset + len(page)
			switch {
			case resp != nil && resp.Pagination != nil:
				if next >= resp.Pagination.TotalCount {
					return
				}
			case len(page) < limit:
				return
			}
			lo.Offset = next
		}
	}
}
