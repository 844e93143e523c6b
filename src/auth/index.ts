export { AuthError } from './errors.js';
export { adsAdmission, Authenticator, type AdsAdmission, mayBeNode, mayServe, type AuthRole, type Identity } from './tokens.js';
export { authorizationOf, authorizeCall, authStatus } from './grpc.js';
export { clientCredentials, isLoopbackListen, serverCredentials, warnIfExposedPlaintext, type ClientTlsFiles } from './tls.js';
