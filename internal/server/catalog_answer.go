package server

import "net/http"

// answerCatalog answers what a call of the catalog returned: its error as
// failCatalog does, else v with status. The catalog's handlers all end so.
func (s *Server) answerCatalog(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, status, v)
}

// answerList answers a list of the catalog under key ({"jobs": [...]},
// [] when there is none), or the error that kept it from being read.
func answerList[T any](s *Server, w http.ResponseWriter, r *http.Request, key string, list []T, err error) {
	s.answerCatalog(w, r, http.StatusOK, map[string][]T{key: nonNil(list)}, err)
}
