// Original file: proto/healthmesh/v1/status.proto


export interface ListClustersRequest {
}

export interface ListClustersRequest__Output {
}
