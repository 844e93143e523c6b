// Original file: proto/healthmesh/v1/status.proto


export interface ListProxiesRequest {
}

export interface ListProxiesRequest__Output {
}
