// Prisma CLI configuration. The URL is only needed by `prisma migrate`; `prisma generate`
// works without it (and offline with PRISMA_SCHEMA_ENGINE_BINARY set, see scripts/generate.mjs).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env['DATABASE_URL'] ?? '' },
});
