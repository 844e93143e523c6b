export { AuthError, Authenticator, mayBeNode, mayServe, type AuthRole, type Identity } from './tokens.js';
export { authorizationOf, authorizeCall, authStatus } from './grpc.js';
export { clientCredentials, isLoopbackListen, serverCredentials, type ClientTlsFiles } from './tls.js';
