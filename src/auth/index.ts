export { AuthError, Authenticator, mayBeNode, mayServe, type AuthRole, type Identity } from './tokens.js';
export { authorizationOf, authorizeCall, authStatus } from './grpc.js';
export { serverCredentials, isLoopbackListen } from './tls.js';
