package validation

import (
	"strings"
	"sync/atomic"

	"github.com/gitship/gitship/shared/render"
)

// Warm compiles, in the background and one at a time, the embedded
// schemas of the kinds that kinds returns (called in the background too),
// for every Kubernetes version, so that validation finds them compiled. A
// step calls it before it renders a chart: Helm's engine renders on one
// core, and the schemas of the kinds the templates name
// (render.TemplateKinds) compile on the other meanwhile. A kind with no
// APIVersion warms each API version of it the version serves.
//
// Only the compile is done ahead: which schema judges a resource is still
// decided when it is validated (a CRD may give its kind another), and a
// compiled schema is used only for the same document. The verdicts are
// those without Warm.
//
// stop ends the warm-up after the schema being compiled: call it when the
// resources are ready, so that it takes no core from the validation.
// Close waits for it.
func (v *Validator) Warm(kinds func() []render.Kind) (stop func()) {
	var stopped atomic.Bool
	v.warming.Add(1)
	go func() {
		defer v.warming.Done()
		for _, k := range kinds() {
			for _, version := range v.opts.KubernetesVersions {
				version = strings.TrimPrefix(version, "v")
				c := v.store.catalogs[version]
				if c == nil {
					continue
				}
				apiVersions := []string{k.APIVersion}
				if k.APIVersion == "" {
					apiVersions = nil
					for _, gvk := range c.Kinds() {
						if gvk.Kind == k.Kind {
							apiVersions = append(apiVersions, gvk.APIVersion())
						}
					}
				}
				for _, apiVersion := range apiVersions {
					if stopped.Load() {
						return
					}
					doc, ok, err := c.Schema(apiVersion, k.Kind, v.store.strict)
					if err != nil || !ok {
						continue
					}
					v.schemas.warm(v.store.path(version, apiVersion, k.Kind), doc)
				}
			}
		}
	}()
	return func() { stopped.Store(true) }
}
