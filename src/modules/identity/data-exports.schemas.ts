import { Type } from 'typebox';
import { DateTime, Uuid } from '../../platform/http/schemas.js';

export { CloseAccountBody as DataExportBody, IdParams as DataExportParams } from './me.schemas.js';

export const DataExport = Type.Object(
  {
    id: Uuid,
    status: Type.Union([Type.Literal('preparing'), Type.Literal('ready')], {
      description: '`ready` once every module has written its part',
    }),
    requestedAt: DateTime,
    expiresAt: DateTime,
    parts: Type.Array(Type.Object({ module: Type.String(), ready: Type.Boolean() }), {
      description: 'One part per module of the platform',
    }),
  },
  { description: 'A copy of my personal data, asked for' },
);

export const DataExportList = Type.Object({ data: Type.Array(DataExport) });

/** What the download is: described for the documents; the body is streamed as stored. */
export const DataExportDocument = Type.Object(
  {
    exportId: Uuid,
    userId: Uuid,
    requestedAt: DateTime,
    expiresAt: DateTime,
    parts: Type.Record(
      Type.String(),
      Type.Object({
        module: Type.String(),
        generatedAt: DateTime,
        data: Type.Record(Type.String(), Type.Unknown()),
      }),
      { description: "Each module's part, by the module's name: its sections of what it holds about me" },
    ),
  },
  { description: 'Everything the platform holds about me, as one JSON document' },
);
