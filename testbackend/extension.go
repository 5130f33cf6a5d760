package testbackend

import (
	"github.com/greenroom-dev/greenroom/testbackend/internal/extension"
)

// The opt-in packages under testbackend (testbackend/openapitest) make
// their options through package extension, so that testbackend compiles
// none of their dependencies.
func init() {
	extension.Register(func(e extension.Extension) any {
		return Option{apply: func(s *settings) error {
			if err := e.Add(s.extensions); err != nil {
				return err
			}
			s.extensions = append(s.extensions, e)
			return nil
		}}
	})
}
