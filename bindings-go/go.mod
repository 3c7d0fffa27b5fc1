module github.com/elect-dev/elect/bindings-go

go 1.19

require github.com/lib/pq v1.10.9
