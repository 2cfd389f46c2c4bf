# The operator. Build: make docker-build IMG=<registry>/tenant-operator:<tag>
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY controllers/ controllers/
COPY main.go ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/tenant-operator .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tenant-operator /tenant-operator
USER 65532:65532
ENTRYPOINT ["/tenant-operator"]
