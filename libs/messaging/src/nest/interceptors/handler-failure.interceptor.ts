import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, throwError, type Observable } from 'rxjs';
import { MessagingContext } from '../ctx-host/messaging.context';
import { recordFailure, watchFailures } from '../server/handler-failure';

/**
 * Keeps the error a MessagingServer handler threw for the server (see handler-failure.ts), so the DLQ says
 * what failed and NonRetryableError skips the retries. It rethrows unchanged: exception filters still run.
 * MessagingModule registers it as a global interceptor (APP_INTERCEPTOR): that reaches the handlers of a plain
 * microservice, and of a hybrid app connected with `{ inheritAppConfig: true }`; otherwise put
 * `@UseInterceptors(HandlerFailureInterceptor)` on the controllers. Anything that is not a MessagingServer
 * handler passes straight through.
 */
@Injectable()
export class HandlerFailureInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx: unknown = context.getType() === 'rpc' ? context.switchToRpc().getContext() : undefined;
    if (!(ctx instanceof MessagingContext)) return next.handle();
    watchFailures(ctx);
    return next.handle().pipe(
      catchError((error: unknown) => {
        recordFailure(ctx, error);
        return throwError(() => error);
      }),
    );
  }
}
