import { Type } from 'typebox';

export const FORM = 'application/x-www-form-urlencoded';

export const OAuthErrorBody = Type.Object(
  {
    error: Type.String(),
    error_description: Type.Optional(Type.String()),
  },
  {
    description: 'RFC 6749 §5.2 error',
    examples: [
      {
        error: 'invalid_grant',
        error_description: 'The refresh token is not valid, has expired or was revoked.',
      },
    ],
  },
);

const optional = (description: string) => Type.Optional(Type.String({ maxLength: 4096, description }));

export const TokenRequest = Type.Object(
  {
    grant_type: optional('password | refresh_token | client_credentials'),
    client_id: optional('For client_secret_post and public clients'),
    client_secret: optional('For client_secret_post'),
    username: optional('password grant'),
    password: optional('password grant'),
    mfa_code: optional('password grant, for accounts with two-factor authentication'),
    refresh_token: optional('refresh_token grant'),
    scope: optional('Space-separated scopes'),
  },
  { examples: [{ grant_type: 'client_credentials', scope: 'catalog:read' }] },
);

export const TokenResponse = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    refresh_token: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
  },
  {
    examples: [
      { access_token: 'eyJhbGciOiJFZERTQSIs…', token_type: 'Bearer', expires_in: 300, scope: 'catalog:read' },
    ],
  },
);

export const RevokeRequest = Type.Object(
  {
    token: optional('The token to revoke'),
    token_type_hint: optional('access_token | refresh_token'),
    client_id: optional('For client_secret_post and public clients'),
    client_secret: optional('For client_secret_post'),
  },
  { examples: [{ token: 'rt_9H2k6Vf0m1…', token_type_hint: 'refresh_token' }] },
);

export const IntrospectRequest = Type.Object(
  {
    token: optional('The token to describe'),
    token_type_hint: optional('access_token | refresh_token'),
    client_id: optional('For client_secret_post'),
    client_secret: optional('For client_secret_post'),
  },
  { examples: [{ token: 'eyJhbGciOiJFZERTQSIs…' }] },
);

export const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    sub: Type.Optional(Type.String()),
    aud: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    jti: Type.Optional(Type.String()),
  },
  {
    examples: [
      {
        active: true,
        token_type: 'Bearer',
        client_id: 'cl_2x9Qm0aB7kPz',
        sub: 'cl_2x9Qm0aB7kPz',
        scope: 'catalog:read',
        exp: 1735812000,
      },
      { active: false },
    ],
  },
);

export const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object({
        kty: Type.String(),
        crv: Type.Optional(Type.String()),
        x: Type.Optional(Type.String()),
        y: Type.Optional(Type.String()),
        kid: Type.String(),
        alg: Type.String(),
        use: Type.String(),
      }),
    ),
  },
  {
    examples: [
      {
        keys: [
          {
            kty: 'OKP',
            crv: 'Ed25519',
            x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
            kid: 'hJ3oW1x…',
            alg: 'EdDSA',
            use: 'sig',
          },
        ],
      },
    ],
  },
);

export const ServerMetadata = Type.Object(
  {
    issuer: Type.String(),
    token_endpoint: Type.String(),
    jwks_uri: Type.String(),
    revocation_endpoint: Type.String(),
    introspection_endpoint: Type.String(),
    grant_types_supported: Type.Array(Type.String()),
    response_types_supported: Type.Array(Type.String()),
    token_endpoint_auth_methods_supported: Type.Array(Type.String()),
    revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
    introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
    service_documentation: Type.String(),
  },
  {
    description: 'RFC 8414 authorization server metadata',
    examples: [
      {
        issuer: 'https://api.lectern.example',
        token_endpoint: 'https://api.lectern.example/oauth/token',
        jwks_uri: 'https://api.lectern.example/.well-known/jwks.json',
        revocation_endpoint: 'https://api.lectern.example/oauth/revoke',
        introspection_endpoint: 'https://api.lectern.example/oauth/introspect',
        grant_types_supported: ['password', 'refresh_token', 'client_credentials'],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        service_documentation: 'https://api.lectern.example/docs',
      },
    ],
  },
);
