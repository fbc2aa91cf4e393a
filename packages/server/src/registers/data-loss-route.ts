/**
 * `POST /api/v1/registers/me/data-loss`: a register that came back without (all of) its database
 * — deleted, evicted, unreadable, rolled back — tells the server what it knew it had committed
 * (its pairing marker, kept outside the database). The server compares that with what it holds
 * and raises a `register_data_loss` alert naming the ops and receipts it never received, so the
 * loss is on the back office's screen, not only the register's (DESIGN §3, issue 7).
 *
 * The report is idempotent: one alert per register and detection time (sending it again after a
 * lost answer counts one more occurrence of the same alert).
 */
import { isValidReceiptNo, parseReceiptNo } from '@kassa/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deviceOf, requireDevice } from '../auth/device-auth.js';
import type { SessionDeps } from '../auth/session.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { raiseAlert } from '../sync/apply/alerts.js';

const ReceiptNoSchema = z.string().max(40).refine(isValidReceiptNo, 'a receipt number such as S01-R02-000042');

/** What the register reports. */
export const DataLossReportSchema = z.strictObject({
  reason: z.enum(['missing', 'unreadable', 'rolled_back', 'other_register']).describe('how the register found its database'),
  localLastSeq: z.int().min(0).max(2_147_483_647).describe('the highest op seq the register knew it had committed'),
  localLastReceiptNo: ReceiptNoSchema.nullable().describe('the last receipt number it knew it had printed'),
  detectedAt: z.int().min(0).max(8_640_000_000_000_000).describe('when the register found the loss (its clock, ms)'),
});

/** Registers the route. */
export const dataLossRoute: FastifyPluginAsyncZod<SessionDeps> = async (app, options) => {
  const { storage, clock } = options;
  const db = storage.db;

  app.post(
    '/api/v1/registers/me/data-loss',
    {
      onRequest: requireDevice(storage),
      schema: {
        summary: 'A register reports that it lost (part of) its database',
        description: 'Raises a `register_data_loss` alert with the op seqs and receipt numbers the server never received from this register.',
        tags: ['registers'],
        body: DataLossReportSchema,
        response: {
          200: z
            .object({ alertKey: z.string(), serverLastSeq: z.int(), serverLastReceiptNumber: z.int(), serverTime: z.int() })
            .meta({ id: 'DataLossReported' }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
        },
      },
    },
    async (request) => {
      const device = deviceOf(request);
      const report = request.body;
      const now = clock.now();
      const row = await db.selectFrom('registers').select(['last_seq', 'last_receipt_number']).where('id', '=', device.registerId).executeTakeFirstOrThrow();
      const receipt = report.localLastReceiptNo === null ? null : parseReceiptNo(report.localLastReceiptNo);
      if (receipt !== null && receipt.registerCode !== device.registerCode) {
        throw new ApiError(400, 'invalid_input', `the receipt number ${String(report.localLastReceiptNo)} is not one of register ${device.registerCode}`);
      }
      const localReceipt = receipt?.seq ?? 0;
      const key = `register_data_loss:${device.registerId}:${String(report.detectedAt)}`;
      await raiseAlert(
        db,
        device.orgId,
        {
          key,
          kind: 'register_data_loss',
          storeId: device.storeId,
          registerId: device.registerId,
          data: {
            registerId: device.registerId,
            registerCode: device.registerCode,
            reason: report.reason,
            detectedAt: report.detectedAt,
            localLastSeq: report.localLastSeq,
            serverLastSeq: row.last_seq,
            missingSeqs: report.localLastSeq > row.last_seq ? { from: row.last_seq + 1, to: report.localLastSeq, count: report.localLastSeq - row.last_seq } : null,
            localLastReceiptNo: report.localLastReceiptNo,
            serverLastReceiptNumber: row.last_receipt_number,
            missingReceipts: localReceipt > row.last_receipt_number ? localReceipt - row.last_receipt_number : 0,
          },
        },
        now,
      );
      return { alertKey: key, serverLastSeq: row.last_seq, serverLastReceiptNumber: row.last_receipt_number, serverTime: now };
    },
  );
};
