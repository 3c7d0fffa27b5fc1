module github.com/elect-dev/elect/bindings-go

go 1.21

require (
	github.com/go-sql-driver/mysql v1.8.1
	github.com/lib/pq v1.10.9
)

require filippo.io/edwards25519 v1.1.0 // indirect
