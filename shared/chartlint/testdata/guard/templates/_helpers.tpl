{{- define "guard.tier" -}}
{{- if not (has .Values.tier (list "web" "worker")) -}}
{{- fail (printf "tier must be web or worker, not %s" (toString .Values.tier)) -}}
{{- end -}}
{{- .Values.tier -}}
{{- end -}}
